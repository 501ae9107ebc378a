"""Digital Life (数字生命): a desktop companion that remembers.

The library is ``dl_app.memory`` (``Memory`` and the values it returns; errors in
``dl_app.core.errors``). This module stays light: the command line imports it first.
"""

import os as _os

__all__ = ["__version__"]

# numpy's OpenBLAS (loaded later) runs on one thread unless the user says
# otherwise: its only products here are small (``adapters/turn_crowding.py``),
# and its threads, spinning between them, took four times the CPU (and more
# wall time) on a busy 2-core machine.
_os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

__version__ = "0.1.0"
