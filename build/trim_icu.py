"""Trim the ICU data library Qt Core links (``libicudata.so.NN``: 30 MB, 7.2 MiB of the
.deb) to what Qt can reach in this app, and write it back under the same name.

    python build/trim_icu.py PATH/TO/libicudata.so.NN

Qt Core calls ICU for four things only (its undefined ICU symbols): case mapping (code
in libicuuc, no data), collation (QCollator), time zone names (QTimeZone) and legacy
text encodings (QStringConverter). Qt WebEngine, which draws the pages, carries its own
ICU and data (icudtl.dat). So the data keeps: collation, time zone names and the
locale bundles of the app's languages (root, English, Chinese), the tables beside them
(time zone rules, likely subtags, normalization...), and the Chinese legacy encodings
(GB18030, GBK, Big5). It drops: the other languages' bundles (a locale without its
own falls back to root: collation in code point order, time zone names as offsets),
the break iterators and their dictionaries, currency, language, region and unit
names, spell-out rules, transliterators and the other legacy encodings.

The library holds one symbol, ``icudtNN_dat``: ICU's common data package ("CmnD": a
table of contents, then each item aligned to 16 bytes). The kept items are written in
the same layout as ICU's ``icupkg`` writes it, and ``as`` and ``ld`` (binutils, which
the build already needs for ``strip``) wrap it into a library again. The selftest's
"qt text" check uses all four through Qt in the installed bundle.
"""

from __future__ import annotations

import re
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

DROP_TREES = ("brkitr", "curr", "lang", "rbnf", "region", "translit", "unit")
KEEP_LANGUAGES = ("root", "en", "zh")
# GB18030; GBK and Big5 with the tables they extend (icupkg names the dependencies).
KEEP_CONVERTERS = ("gb18030.cnv", "windows-936-2000.cnv", "ibm-1386_P100-2001.cnv",
                   "windows-950-2000.cnv", "ibm-1373_P100-2002.cnv")
_LOCALE = re.compile(r"([a-z]{2,3})(_[A-Za-z0-9]*)*\.res")
_NOT_LOCALES = ("res_index.res", "pool.res")
SHT_DYNSYM = 11


def keep(item: str) -> bool:
    """Whether the package keeps ``item``, named without its package prefix
    (``coll/zh.res``, ``gb18030.cnv``)."""
    tree, _, base = item.rpartition("/")
    if tree in DROP_TREES:
        return False
    if base.endswith(".cnv"):
        return base in KEEP_CONVERTERS
    m = _LOCALE.fullmatch(base)
    if m and base not in _NOT_LOCALES:
        return m.group(1) in KEEP_LANGUAGES
    return True


def find_symbol(lib: bytes) -> tuple[str, int, int]:
    """The ``icudtNN_dat`` symbol of a little-endian 64-bit ELF library: its name, file
    offset and size."""
    if lib[:4] != b"\x7fELF" or lib[4] != 2 or lib[5] != 1:
        raise ValueError("not a little-endian 64-bit ELF file")
    shoff, = struct.unpack_from("<Q", lib, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", lib, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", lib, shoff + i * shentsize)
                for i in range(shnum)]
    for _name, sh_type, _f, _a, sh_offset, sh_size, sh_link, _i, _al, sh_entsize in sections:
        if sh_type != SHT_DYNSYM:
            continue
        strtab = sections[sh_link][4]
        for at in range(sh_offset, sh_offset + sh_size, sh_entsize):
            st_name, _info, _other, shndx, value, size = struct.unpack_from("<IBBHQQ", lib, at)
            name = lib[strtab + st_name:lib.index(b"\0", strtab + st_name)].decode()
            if re.fullmatch(r"icudt\d+_dat", name) and size:
                section = sections[shndx]
                return name, section[4] + value - section[3], size
    raise ValueError("no icudtNN_dat symbol: not an ICU data library")


def read_package(pkg: bytes) -> tuple[bytes, list[tuple[str, bytes]]]:
    """The package's header and its items (full names, bytes) in table order."""
    header_size, magic1, magic2 = struct.unpack_from("<HBB", pkg, 0)
    if (magic1, magic2) != (0xDA, 0x27) or pkg[12:16] != b"CmnD":
        raise ValueError("not an ICU common data package")
    if pkg[8] != 0:
        raise ValueError("a big-endian ICU package")
    count, = struct.unpack_from("<I", pkg, header_size)
    toc = [struct.unpack_from("<II", pkg, header_size + 4 + 8 * i) for i in range(count)]
    ends = [offset for _, offset in toc[1:]] + [len(pkg) - header_size]
    items = []
    for (name_at, start), end in zip(toc, ends, strict=True):
        name_start = header_size + name_at
        name = pkg[name_start:pkg.index(b"\0", name_start)].decode("ascii")
        items.append((name, pkg[header_size + start:header_size + end]))
    return pkg[:header_size], items


def _pad16(data: bytes) -> bytes:
    return data + b"\xaa" * (-len(data) % 16)


def write_package(header: bytes, items: list[tuple[str, bytes]]) -> bytes:
    """A package in icupkg's layout: header, count, (name, data) offsets from the count,
    the names, then each item padded to 16 bytes with 0xaa."""
    names = b"".join(name.encode("ascii") + b"\0" for name, _ in items)
    toc_size = 4 + 8 * len(items)
    # The items start 16-aligned in the file: the header size is a multiple of 16.
    data_start = len(_pad16(b"\0" * (toc_size + len(names))))
    toc, name_at, data_at, blobs = [], toc_size, data_start, []
    for name, data in items:
        toc.append(struct.pack("<II", name_at, data_at))
        name_at += len(name) + 1
        blob = _pad16(data)
        blobs.append(blob)
        data_at += len(blob)
    body = _pad16(struct.pack("<I", len(items)) + b"".join(toc) + names)
    return header + body + b"".join(blobs)


def link_library(package: bytes, symbol: str, soname: str, out: Path) -> None:
    """Wrap ``package`` into a shared library exporting it as ``symbol`` (as, ld)."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "data.bin").write_bytes(package)
        (work / "data.s").write_text(
            f'\t.section .rodata\n\t.globl {symbol}\n\t.type {symbol}, @object\n'
            f'\t.balign 16\n{symbol}:\n\t.incbin "{work / "data.bin"}"\n'
            f'\t.size {symbol}, .-{symbol}\n'
            # No executable stack: without this note ld marks it executable, and a
            # newer glibc refuses to load such a library.
            '\t.section .note.GNU-stack,"",@progbits\n')
        subprocess.run(["as", "-o", str(work / "data.o"), str(work / "data.s")], check=True)
        subprocess.run(["ld", "-shared", "-soname", soname, "-o", str(out),
                        str(work / "data.o")], check=True)


def trim(path: Path) -> tuple[int, int, int, int]:
    """Rewrite the library at ``path`` with the kept items. Returns (items before, items
    after, bytes before, bytes after)."""
    lib = path.read_bytes()
    symbol, offset, size = find_symbol(lib)
    header, items = read_package(lib[offset:offset + size])
    prefix = items[0][0].split("/", 1)[0] + "/"
    kept = [(n, d) for n, d in items if keep(n.removeprefix(prefix))]
    package = write_package(header, kept)
    if read_package(package)[1] != [(n, _pad16(d)) for n, d in kept]:
        raise AssertionError("the written package does not read back")
    new = path.with_name(path.name + ".trimmed")
    link_library(package, symbol, path.name, new)
    new.chmod(path.stat().st_mode)
    new.replace(path)
    return len(items), len(kept), len(lib), path.stat().st_size


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    before, after, size_before, size_after = trim(Path(argv[0]))
    print(f"trim_icu: {Path(argv[0]).name}: {before} -> {after} items, "
          f"{size_before / 1e6:.1f} -> {size_after / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
