"""Digital Life (数字生命): a desktop companion that remembers.

The library is ``dl_app.memory`` (``Memory`` and the values it returns; errors in
``dl_app.core.errors``). This module stays light: the command line imports it first.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
