"""Rewrite gzip files as stored gzip (deflate level 0): the same bytes for every reader
(``gzip.open``), but xz, which packs the .deb, then sees the content instead of deflate
output. pdfminer's character maps for Chinese, Japanese and Korean PDFs (148 .json.gz
files, 7.9 MB) took 5.0 MB of the .deb; stored, 0.7 MB (their H and V variants are
near copies), for 14 MB more once installed.

    python build/store_gzip.py FILE...

Each file is checked after writing (the same content reads back) and replaced
atomically; files that are not gzip are left alone. Prints one summary line.
"""

from __future__ import annotations

import gzip
import os
import sys
from pathlib import Path


def store(path: Path) -> bool:
    """Rewrite ``path`` as stored gzip; False when it is not a gzip file."""
    raw = path.read_bytes()
    if raw[:2] != b"\x1f\x8b":
        return False
    content = gzip.decompress(raw)
    stored = gzip.compress(content, compresslevel=0, mtime=0)
    if gzip.decompress(stored) != content:
        raise AssertionError(f"{path}: the stored copy does not read back")
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(stored)
    os.chmod(tmp, path.stat().st_mode)
    tmp.replace(path)
    return True


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    before = sum(Path(f).stat().st_size for f in argv)
    done = sum(store(Path(f)) for f in argv)
    after = sum(Path(f).stat().st_size for f in argv)
    print(f"store_gzip: {done} of {len(argv)} files stored, {before / 1e6:.1f} -> "
          f"{after / 1e6:.1f} MB on disk")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
