"""Deciding what NEW keeps, and why: every kept path carries the first reason found for it.

Pure over an `ImageTree` (reads file contents only through it): seeds are the
traced paths, the essential files, ``--include-path`` globs and
``--include-package`` packages; closing over them adds the directories and
symlinks on each path, symlink targets, other names of a hardlinked file, the
dynamic-linker closure of ELF files, the source next to a cached ``.pyc``, the
whole distribution of every Python package used, and, last, every symlink
whose target is kept (fanotify never sees the name a file was opened by, so a
``/bin/wc -> busybox`` link cannot be told apart from an unused one). The
package databases are then trimmed to the packages that still have files.
"""

from __future__ import annotations

import fnmatch
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final

from lamina.packages.model import APK, DEB, NPM, PYTHON, Package
from lamina.slim import apkdb, dpkgdb
from lamina.slim.imagetree import DIR, FILE, SYMLINK, ImageTree, parent
from lamina.slim.inventory import Inventory
from lamina.slim.linker import Linker
from lamina.slim.pydists import owner_of, site_dirs

TRACED: Final = "traced"
PATH: Final = "on-path"  # a directory or symlink on the way to a kept path
SYMLINK_TARGET: Final = "symlink-target"
LINK_TO_KEPT: Final = "symlink-to-kept"
HARDLINK: Final = "hardlink"
ELF_INTERP: Final = "elf-interpreter"
ELF_NEEDED: Final = "elf-needed"
SCRIPT_INTERP: Final = "script-interpreter"
PY_SOURCE: Final = "python-source"
PY_DIST: Final = "python-distribution"
PACKAGE: Final = "include-package"
INCLUDE_PATH: Final = "include-path"
ESSENTIAL: Final = "essential"
PACKAGE_DB: Final = "package-database"

# Files every image keeps when it has them: users and groups, the OS release,
# TLS roots and timezone data (a directory keeps its whole tree).
ESSENTIAL_PATHS: Final = (
    "/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow", "/etc/nsswitch.conf",
    "/etc/os-release", "/usr/lib/os-release", "/etc/localtime", "/etc/timezone",
    "/etc/ssl/certs", "/etc/ssl/cert.pem", "/etc/pki/tls/certs", "/etc/ca-certificates.conf",
    "/usr/share/ca-certificates", "/usr/local/share/ca-certificates", "/usr/share/zoneinfo",
)
# Directories programs expect to exist, kept empty.
ESSENTIAL_DIRS: Final = ("/tmp", "/var/tmp", "/run", "/root", "/home")


@dataclass(frozen=True)
class Reason:
    kind: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.kind} ({self.detail})" if self.detail else self.kind


@dataclass
class KeepSet:
    reasons: dict[str, Reason] = field(default_factory=dict)
    overrides: dict[str, bytes] = field(default_factory=dict)  # kept paths with new content
    kept_packages: list[Package] = field(default_factory=list)
    removed_packages: list[Package] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)  # "lib.so needed by /x" not in image

    def __contains__(self, path: str) -> bool:
        return path in self.reasons


@dataclass(frozen=True)
class Request:
    traced: Iterable[str]
    include_paths: Sequence[str] = ()
    include_packages: Sequence[str] = ()
    env: Sequence[str] = ()
    workdir: str = "/"


class _Closure:
    def __init__(self, tree: ImageTree, inventory: Inventory, linker: Linker) -> None:
        self.tree = tree
        self.inventory = inventory
        self.linker = linker
        self.out = KeepSet()
        self.queue: deque[str] = deque()
        self.sites = site_dirs(tree)
        self.python = inventory.python()
        self._dists_done: set[str] = set()

    def add(self, path: str, reason: Reason) -> None:
        if path in self.out.reasons or path not in self.tree.entries:
            return
        self.out.reasons[path] = reason
        self.queue.append(path)

    def add_resolved(self, path: str, reason: Reason) -> None:
        """Keep what ``path`` leads to, and the symlinks and dirs it goes through."""
        res = self.tree.resolve(path)
        for step in res.via:
            self.add(step, Reason(PATH, path))
        if res.final is not None:
            self.add(res.final, reason)

    def add_tree(self, path: str, reason: Reason) -> None:
        self.add_resolved(path, reason)
        res = self.tree.resolve(path)
        if res.final is not None and self.tree.entries[res.final].kind == DIR:
            for sub in self.tree.under(res.final):
                self.add(sub, reason)

    def run(self) -> None:
        while self.queue:
            self.visit(self.queue.popleft())

    def visit(self, path: str) -> None:
        entry = self.tree.entries[path]
        if path != "/":
            self.add(parent(path), Reason(PATH, path))
        if entry.kind == SYMLINK:
            self.add_resolved(path, Reason(SYMLINK_TARGET, path))
            return
        if entry.kind != FILE:
            return
        if self.out.reasons[path].kind == PACKAGE_DB:
            return  # records about files, never run
        for other in self.tree.hardlinks(path):
            self.add(other, Reason(HARDLINK, path))
        self._elf(path)
        self._script(path)
        self._python(path)

    def _script(self, path: str) -> None:
        """A ``#!`` script needs its interpreter (the kernel opens it; strace never says so)."""
        try:
            with open(self.tree.host(path), "rb") as f:
                head = f.read(256)
        except OSError:
            return
        if not head.startswith(b"#!"):
            return
        words = head[2:].split(b"\n", 1)[0].split()
        if words and words[0].startswith(b"/"):
            self.add_resolved(words[0].decode("utf-8", "replace"), Reason(SCRIPT_INTERP, path))

    def _elf(self, path: str) -> None:
        info = self.linker.elf(path)
        if info is None:
            return
        interp = self.linker.interpreter(path, info)
        if interp is not None:
            for step in interp.via:
                self.add(step, Reason(PATH, info.interpreter))
            self.add(interp.path, Reason(ELF_INTERP, path))
        for name, found in self.linker.needed(path, info):
            if found is None:
                self.out.unresolved.append(f"{name} needed by {path}")
                continue
            for step in found.via:
                self.add(step, Reason(PATH, found.path))
            self.add(found.path, Reason(ELF_NEEDED, path))

    def _python(self, path: str) -> None:
        head, _, name = path.rpartition("/")
        if name.endswith(".pyc") and head.endswith("/__pycache__"):
            # The importer stat()s the source before it uses the cache; without
            # the source a __pycache__ entry is ignored.
            source = f"{parent(head)}/{name.split('.', 1)[0]}.py"
            self.add(source, Reason(PY_SOURCE, path))
        for site in self.sites:
            if not path.startswith(site + "/"):
                continue
            for dist in owner_of(path, site, self.python):
                if dist.key + dist.site in self._dists_done:
                    continue
                self._dists_done.add(dist.key + dist.site)
                for f in sorted(dist.files):
                    self.add(f, Reason(PY_DIST, f"{dist.name} {dist.version}, for {path}"))

    def links_to_kept(self) -> bool:
        """Keep every symlink that leads to a kept path; True when any was added."""
        added = False
        for path, entry in self.tree.entries.items():
            if entry.kind != SYMLINK or path in self.out.reasons:
                continue
            res = self.tree.resolve(path)
            if res.final is not None and res.final in self.out.reasons and res.final != "/":
                self.add(path, Reason(LINK_TO_KEPT, res.final))
                added = True
        return added


def compute(tree: ImageTree, inventory: Inventory, request: Request) -> KeepSet:
    """What NEW keeps of ``tree``, each path with its reason."""
    closure = _Closure(tree, inventory, Linker(tree, request.env))
    for path in sorted(set(request.traced)):
        closure.add_resolved(path, Reason(TRACED))
    for path in ESSENTIAL_PATHS:
        closure.add_tree(path, Reason(ESSENTIAL, path))
    for path in (*ESSENTIAL_DIRS, request.workdir or "/"):
        closure.add_resolved(path, Reason(ESSENTIAL, "directory"))
    for pattern in request.include_paths:
        matches = [p for p in tree.entries if fnmatch.fnmatchcase(p, pattern)]
        for match in matches:
            closure.add_tree(match, Reason(INCLUDE_PATH, pattern))
    for name in request.include_packages:
        for pkg in inventory.named(name):
            for f in sorted(pkg.files):
                closure.add_resolved(f, Reason(PACKAGE, f"{pkg.type}:{pkg.name}"))
    closure.run()
    while closure.links_to_kept():
        closure.run()
    _trim_databases(tree, inventory, closure)
    closure.run()
    return closure.out


def _survives(pkg: Package, kept: dict[str, Reason], tree: ImageTree) -> bool:
    """A package survives when a file or file symlink it installed is kept.

    Directories never count, nor symlinks to directories: with merged /usr, the
    ``/lib`` every library package lists is the image's ``/lib -> usr/lib`` link.
    """
    for f in pkg.files:
        if f not in kept:
            continue
        kind = tree.entries[f].kind
        if kind == FILE:
            return True
        if kind == SYMLINK:
            final = tree.resolve(f).final
            if final is not None and tree.entries[final].kind != DIR:
                return True
    return False


def _trim_databases(tree: ImageTree, inventory: Inventory, closure: _Closure) -> None:
    kept = closure.out.reasons
    survivors = [p for p in inventory.packages if _survives(p, kept, tree)]
    closure.out.kept_packages = survivors
    closure.out.removed_packages = [p for p in inventory.packages if p not in survivors]
    by_type: dict[str, set[str]] = {}
    for pkg in survivors:
        by_type.setdefault(pkg.type, set()).add(pkg.name)
        if pkg.type in (DEB, NPM, PYTHON):
            for record in sorted(pkg.records):
                closure.add_resolved(record, Reason(PACKAGE_DB, f"{pkg.type}:{pkg.name}"))
    status = dpkgdb.trimmed_status(tree, by_type.get(DEB, set()))
    if status is not None:
        _override(closure, dpkgdb.STATUS, status, f"{len(by_type.get(DEB, ()))} dpkg packages")
    installed = apkdb.trimmed_installed(tree, by_type.get(APK, set()))
    if installed is not None:
        _override(closure, apkdb.INSTALLED, installed,
                  f"{len(by_type.get(APK, ()))} apk packages")


def _override(closure: _Closure, path: str, content: bytes, detail: str) -> None:
    res = closure.tree.resolve(path)
    if res.final is None:
        return
    closure.out.reasons.pop(res.final, None)
    closure.add_resolved(path, Reason(PACKAGE_DB, f"trimmed to {detail}"))
    closure.out.overrides[res.final] = content
