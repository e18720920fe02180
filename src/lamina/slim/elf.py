"""Reading what an ELF file asks of the dynamic linker: PT_INTERP, DT_NEEDED, RPATH/RUNPATH.

Only the headers are read (ELF gABI, "Program Header" and "Dynamic Section"):
the program headers give the interpreter path and the PT_DYNAMIC segment; the
dynamic entries give DT_STRTAB as a virtual address, mapped back to a file
offset through the PT_LOAD segment that contains it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import BinaryIO, Final

_MAGIC: Final = b"\x7fELF"
PT_LOAD: Final = 1
PT_DYNAMIC: Final = 2
PT_INTERP: Final = 3
DT_NULL: Final = 0
DT_NEEDED: Final = 1
DT_STRTAB: Final = 5
DT_RPATH: Final = 15
DT_RUNPATH: Final = 29
_MAX_PHDRS: Final = 4096
_MAX_DYN: Final = 1 << 16


@dataclass(frozen=True)
class ElfInfo:
    elf_class: int  # 1: 32-bit, 2: 64-bit
    machine: int
    interpreter: str
    needed: tuple[str, ...]
    rpath: tuple[str, ...]
    runpath: tuple[str, ...]


def read_elf(f: BinaryIO) -> ElfInfo | None:
    """The dynamic-linking facts of the ELF file ``f``, or None when it is not ELF (or broken)."""
    try:
        return _read(f)
    except (struct.error, ValueError, OSError):
        return None


def _read(f: BinaryIO) -> ElfInfo | None:
    ident = f.read(16)
    if len(ident) < 16 or ident[:4] != _MAGIC:
        return None
    elf_class, data = ident[4], ident[5]
    if elf_class not in (1, 2) or data not in (1, 2):
        return None
    end = "<" if data == 1 else ">"
    is64 = elf_class == 2
    if is64:
        header = struct.unpack(end + "HHIQQQIHHHHHH", f.read(48))
        _, machine, _, _, phoff, _, _, _, phentsize, phnum, _, _, _ = header
        ph_fmt = end + "IIQQQQQQ"
    else:
        header = struct.unpack(end + "HHIIIIIHHHHHH", f.read(36))
        _, machine, _, _, phoff, _, _, _, phentsize, phnum, _, _, _ = header
        ph_fmt = end + "IIIIIIII"
    if phnum > _MAX_PHDRS or phentsize < struct.calcsize(ph_fmt):
        return None
    loads: list[tuple[int, int, int]] = []  # vaddr, filesz, offset
    interp = ""
    dynamic: tuple[int, int] | None = None  # offset, size
    for i in range(phnum):
        f.seek(phoff + i * phentsize)
        raw = struct.unpack(ph_fmt, f.read(struct.calcsize(ph_fmt)))
        if is64:
            p_type, _, p_offset, p_vaddr, _, p_filesz, _, _ = raw
        else:
            p_type, p_offset, p_vaddr, _, p_filesz, _, _, _ = raw
        if p_type == PT_LOAD:
            loads.append((p_vaddr, p_filesz, p_offset))
        elif p_type == PT_INTERP:
            f.seek(p_offset)
            interp = f.read(min(p_filesz, 4096)).split(b"\0", 1)[0].decode("utf-8", "replace")
        elif p_type == PT_DYNAMIC:
            dynamic = (p_offset, p_filesz)
    needed_off: list[int] = []
    rpath_off: list[int] = []
    runpath_off: list[int] = []
    strtab = None
    if dynamic is not None:
        dyn_fmt = end + ("qQ" if is64 else "iI")
        size = struct.calcsize(dyn_fmt)
        f.seek(dynamic[0])
        for _ in range(min(dynamic[1] // size, _MAX_DYN)):
            tag, val = struct.unpack(dyn_fmt, f.read(size))
            if tag == DT_NULL:
                break
            if tag == DT_NEEDED:
                needed_off.append(val)
            elif tag == DT_RPATH:
                rpath_off.append(val)
            elif tag == DT_RUNPATH:
                runpath_off.append(val)
            elif tag == DT_STRTAB:
                strtab = val
    strtab_off = _file_offset(strtab, loads) if strtab is not None else None

    def string(off: int) -> str:
        if strtab_off is None:
            return ""
        f.seek(strtab_off + off)
        return f.read(4096).split(b"\0", 1)[0].decode("utf-8", "replace")

    def paths(offsets: list[int]) -> tuple[str, ...]:
        return tuple(p for off in offsets for p in string(off).split(":") if p)

    return ElfInfo(elf_class, machine, interp, tuple(s for s in map(string, needed_off) if s),
                   paths(rpath_off), paths(runpath_off))


def _file_offset(vaddr: int, loads: list[tuple[int, int, int]]) -> int | None:
    for start, filesz, offset in loads:
        if start <= vaddr < start + filesz:
            return vaddr - start + offset
    return None
