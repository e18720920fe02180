"""Finding the libraries an ELF file needs the way ld.so does, inside the image.

Search order (ld.so(8)): DT_RPATH (only when there is no DT_RUNPATH),
LD_LIBRARY_PATH from the image's environment, DT_RUNPATH, the directories of
/etc/ld.so.conf (with its ``include`` globs), then the default directories.
``$ORIGIN`` expands to the directory of the object that asks. A candidate
counts only when it is an ELF file of the same class and machine.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass

from lamina.slim.elf import ElfInfo, read_elf
from lamina.slim.imagetree import DIR, FILE, ImageTree, parent

DEFAULT_DIRS: dict[int, tuple[str, ...]] = {
    1: ("/lib", "/usr/lib", "/lib32", "/usr/lib32"),
    2: ("/lib64", "/usr/lib64", "/lib", "/usr/lib"),
}


@dataclass(frozen=True)
class Found:
    path: str  # the library's resolved path
    via: tuple[str, ...]  # symlinks and directories on the way to it


def ld_so_conf_dirs(tree: ImageTree, conf: str = "/etc/ld.so.conf", depth: int = 0) -> list[str]:
    """The directories listed by ld.so.conf and the files it includes, in order."""
    if depth > 8:
        return []
    text = _read_text(tree, conf)
    if text is None:
        return []
    dirs: list[str] = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("include"):
            pattern = line.split(None, 1)[1] if len(line.split(None, 1)) > 1 else ""
            if not pattern.startswith("/"):
                pattern = parent(conf).rstrip("/") + "/" + pattern
            for match in sorted(p for p in tree.entries if fnmatch.fnmatchcase(p, pattern)):
                dirs += ld_so_conf_dirs(tree, match, depth + 1)
        else:
            dirs.append(line)
    return dirs


def _read_text(tree: ImageTree, path: str) -> str | None:
    res = tree.resolve(path)
    if res.final is None or tree.entries[res.final].kind != FILE:
        return None
    return tree.host(res.final).read_text(errors="replace")


class Linker:
    """Resolves DT_NEEDED names for the ELF files of one image."""

    def __init__(self, tree: ImageTree, env: Sequence[str] = ()) -> None:
        self.tree = tree
        ld_path = next((e.split("=", 1)[1] for e in env if e.startswith("LD_LIBRARY_PATH=")), "")
        self.ld_library_path = [d for d in ld_path.split(":") if d]
        self.conf_dirs = ld_so_conf_dirs(tree)
        self._elf_cache: dict[str, ElfInfo | None] = {}

    def elf(self, path: str) -> ElfInfo | None:
        if path not in self._elf_cache:
            info = None
            entry = self.tree.get(path)
            if entry is not None and entry.kind == FILE and entry.size >= 52:
                try:
                    with open(self.tree.host(path), "rb") as f:
                        info = read_elf(f)
                except OSError:
                    info = None
            self._elf_cache[path] = info
        return self._elf_cache[path]

    def interpreter(self, path: str, info: ElfInfo) -> Found | None:
        if not info.interpreter:
            return None
        return self._lookup(info.interpreter)

    def needed(self, path: str, info: ElfInfo) -> list[tuple[str, Found | None]]:
        """Each DT_NEEDED name of ``path`` with where it was found (None: not in the image)."""
        origin = parent(path)
        search: list[str] = []
        if not info.runpath:
            search += info.rpath
        search += self.ld_library_path
        search += info.runpath
        search += self.conf_dirs
        search += DEFAULT_DIRS.get(info.elf_class, ())
        dirs = [d.replace("$ORIGIN", origin).replace("${ORIGIN}", origin) for d in search]
        out: list[tuple[str, Found | None]] = []
        for name in info.needed:
            if "/" in name:
                out.append((name, self._lookup(name if name.startswith("/") else
                                               f"{origin}/{name}")))
                continue
            out.append((name, self._search(name, dirs, info)))
        return out

    def _search(self, name: str, dirs: list[str], want: ElfInfo) -> Found | None:
        for directory in dirs:
            found = self._lookup(f"{directory.rstrip('/')}/{name}")
            if found is None:
                continue
            lib = self.elf(found.path)
            if lib is not None and lib.elf_class == want.elf_class and lib.machine == want.machine:
                return found
        return None

    def _lookup(self, path: str) -> Found | None:
        res = self.tree.resolve(path)
        if res.final is None:
            return None
        entry = self.tree.entries[res.final]
        if entry.kind == DIR:
            return None
        return Found(res.final, tuple(res.via))
