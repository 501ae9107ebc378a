"""The ``dl-app`` command line (``main``: the console script and ``python -m dl_app``).

    main.py      the parser and the chat, window, memory and serve commands
    backup.py    ``dl-app memory backup|backups|restore`` (S3)
    setup.py     the first run of ``dl-app chat``: choose a chat model
    progress.py  progress lines on stderr
    args.py      argparse in the terminal's language (help, usage, errors)
"""

from .main import main

__all__ = ["main"]
