"""Entry point of the PyInstaller bundle: the ``dl-app`` command line."""

from __future__ import annotations

import multiprocessing
import sys

from dl_app.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(main())
