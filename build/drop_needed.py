"""Remove DT_NEEDED entries from ELF shared objects (what ``patchelf --remove-needed``
does, without needing patchelf on the build machine).

    python build/drop_needed.py LIBNAME FILE...

Each FILE that lists LIBNAME among its needed libraries loses that entry: the later
entries of its dynamic section move up one slot and a DT_NULL fills the freed one, so
no offset or size in the file changes. Files that do not list LIBNAME are left alone.
Prints one line per changed file. Used by build/build.sh for pyarrow's substrait
library, which every pyarrow module lists without using a symbol of it (the bundle
leaves pyarrow.substrait out).
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

PT_LOAD, PT_DYNAMIC = 1, 2
DT_NULL, DT_NEEDED, DT_STRTAB = 0, 1, 5


def _file_offset(loads: list[tuple[int, int, int]], vaddr: int) -> int:
    for offset, start, size in loads:
        if start <= vaddr < start + size:
            return offset + vaddr - start
    raise ValueError(f"address {vaddr:#x} is in no loaded segment")


def drop_needed(path: Path, libname: str) -> bool:
    data = bytearray(path.read_bytes())
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise ValueError(f"{path}: not a little-endian 64-bit ELF file")
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    loads, dynamic = [], None
    for i in range(phnum):
        p_type, _flags, p_offset, p_vaddr, _paddr, p_filesz = struct.unpack_from(
            "<IIQQQQ", data, phoff + i * phentsize)
        if p_type == PT_LOAD:
            loads.append((p_offset, p_vaddr, p_filesz))
        elif p_type == PT_DYNAMIC:
            dynamic = (p_offset, p_filesz)
    if dynamic is None:
        return False
    entries = [struct.unpack_from("<qQ", data, dynamic[0] + 16 * i)
               for i in range(dynamic[1] // 16)]
    entries = entries[:next(i for i, (tag, _) in enumerate(entries) if tag == DT_NULL) + 1]
    strtab = _file_offset(loads, next(v for tag, v in entries if tag == DT_STRTAB))

    def name(offset: int) -> str:
        end = data.index(b"\0", strtab + offset)
        return data[strtab + offset:end].decode()

    kept = [(t, v) for t, v in entries if not (t == DT_NEEDED and name(v) == libname)]
    if len(kept) == len(entries):
        return False
    kept.append((DT_NULL, 0))  # same number of slots: the freed one becomes DT_NULL
    for i, (tag, value) in enumerate(kept):
        struct.pack_into("<qQ", data, dynamic[0] + 16 * i, tag, value)
    path.write_bytes(data)
    return True


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    libname, files = argv[0], argv[1:]
    for f in files:
        if drop_needed(Path(f), libname):
            print(f"drop_needed: {f} no longer needs {libname}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
