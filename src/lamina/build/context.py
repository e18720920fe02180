"""The build context: a directory, a tar, or stdin; with ``.dockerignore`` applied.

A tar (or a tar on stdin) is unpacked into a private directory first, refusing
members that would land outside it. Stdin that is not a tar is the Dockerfile
itself, with an empty context, as with ``docker build - < Dockerfile``.
Paths named by COPY/ADD resolve inside the context: ``..`` may not leave it and
symlinks are followed as if the context were the root.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from lamina.build.dockerignore import IgnoreMatcher
from lamina.build.sourcehash import SumMemo, source_sum
from lamina.errors import LaminaError


class ContextError(LaminaError):
    """The build context is unusable, or a COPY/ADD source is not in it."""


_WILDCARD = re.compile(r"(?<!\\)[*?\[]")


def has_wildcards(text: str) -> bool:
    return bool(_WILDCARD.search(text))


def go_match_regex(pattern: str) -> re.Pattern[str]:
    """Go's ``filepath.Match`` as a regex: wildcards never cross ``/``."""
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        elif ch == "[":
            end = pattern.find("]", i + 1)
            if end < 0:
                raise ContextError(f"syntax error in pattern {pattern!r}: unclosed '['")
            body = pattern[i + 1:end]
            if body.startswith("^"):
                body = "^" + body[1:]
            out.append("[" + body + "]")
            i = end
        else:
            out.append(re.escape(ch))
        i += 1
    return re.compile("".join(out) + r"\Z")


@dataclass
class BuildContext:
    root: Path
    dockerfile_text: str | None = None  # set when the Dockerfile came on stdin
    owned: bool = False  # root is a private copy to delete on close
    cleanup: Path | None = None  # a clone's work dir, deleted on close too
    matcher: IgnoreMatcher = field(default_factory=lambda: IgnoreMatcher([]))
    memo: SumMemo | None = None  # sums of files from earlier builds (directory contexts only)
    _sums: dict[str, str] = field(default_factory=dict)
    # What the build read or listed, for replaying it (lamina.build.replay): paths, and
    # directories whose whole tree counts.
    touched: set[str] = field(default_factory=set)
    trees: set[str] = field(default_factory=set)

    @classmethod
    def open(cls, source: str, stdin: BinaryIO | None = None, tmp_dir: Path | None = None
             ) -> BuildContext:
        if source == "-":
            if stdin is None:
                raise ContextError("context '-' needs a tar or a Dockerfile on stdin")
            return cls._from_stdin(stdin, tmp_dir)
        path = Path(source)
        if path.is_dir():
            ctx = cls(path.resolve())
            ctx.matcher = IgnoreMatcher.from_context(ctx.root)
            return ctx
        if path.is_file():
            return cls._from_tar(path, tmp_dir)
        from lamina.build import remotecontext  # a URL: only then git and urllib

        if remotecontext.is_remote(source):
            return cls._from_url(source, tmp_dir)
        raise ContextError(f"build context {source!r}: no such directory or tar file")

    @classmethod
    def _from_url(cls, url: str, tmp_dir: Path | None) -> BuildContext:
        """A Git repository (``URL#REF:SUBDIR``) or a downloaded tarball or Dockerfile."""
        from lamina.build import remotecontext

        work = remotecontext.fetch_dir()
        if remotecontext.is_git(url):
            try:
                ctx = cls(remotecontext.clone(url, work), owned=True)
            except BaseException:
                shutil.rmtree(work, ignore_errors=True)
                raise
            ctx.matcher = IgnoreMatcher.from_context(ctx.root)
            ctx.cleanup = work
            return ctx
        try:
            downloaded = remotecontext.download(url, work)
            with downloaded.open("rb") as fh:
                head = fh.read(512)
            if _is_tar(head):
                return cls._from_tar(downloaded, tmp_dir, name=url)
            root = Path(tempfile.mkdtemp(prefix="lamina-ctx-", dir=tmp_dir))
            text = downloaded.read_text(encoding="utf-8", errors="replace")
            return cls(root, dockerfile_text=text, owned=True)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    @classmethod
    def _from_stdin(cls, stdin: BinaryIO, tmp_dir: Path | None) -> BuildContext:
        """Stdin spooled to a file (never held in memory): a tar, or else the Dockerfile."""
        with tempfile.NamedTemporaryFile(prefix="lamina-ctx-", suffix=".in", dir=tmp_dir) as spool:
            while chunk := stdin.read(1 << 20):
                spool.write(chunk)
            spool.flush()
            spool.seek(0)
            if _is_tar(spool.read(512)):
                return cls._from_tar(Path(spool.name), tmp_dir, name="stdin")
            spool.seek(0)
            text = spool.read().decode("utf-8", "replace")
        root = Path(tempfile.mkdtemp(prefix="lamina-ctx-", dir=tmp_dir))
        return cls(root, dockerfile_text=text, owned=True)

    @classmethod
    def _from_tar(cls, archive: Path, tmp_dir: Path | None, name: str | None = None
                  ) -> BuildContext:
        """A tar context (plain or compressed), unpacked member by member as it streams."""
        import tarfile  # only tar contexts need it

        name = name or str(archive)
        root = Path(tempfile.mkdtemp(prefix="lamina-ctx-", dir=tmp_dir))
        try:
            with tarfile.open(archive, mode="r|*") as tar:
                for member in tar:
                    rel = posixpath.normpath(member.name.lstrip("/"))
                    if rel == ".." or rel.startswith("../"):
                        raise ContextError(f"context tar {name}: member {member.name!r} "
                                           "would land outside the context")
                    if member.islnk() and posixpath.normpath(member.linkname).startswith(".."):
                        raise ContextError(f"context tar {name}: hardlink {member.name!r} "
                                           "points outside the context")
                    tar.extract(member, root, filter="fully_trusted")
        except (tarfile.TarError, ContextError) as exc:
            shutil.rmtree(root, ignore_errors=True)
            if isinstance(exc, ContextError):
                raise
            raise ContextError(f"build context {name} is not a valid tar: {exc}") from exc
        ctx = cls(root, owned=True)
        ctx.matcher = IgnoreMatcher.from_context(root)
        return ctx

    def close(self) -> None:
        if self.owned:
            shutil.rmtree(self.root, ignore_errors=True)
        if self.cleanup is not None:
            shutil.rmtree(self.cleanup, ignore_errors=True)

    def _touch_path(self, rel: str) -> None:
        """The context root, every directory on the way to ``rel``, and ``rel`` itself."""
        current = self.root
        self.touched.add(str(current))
        for part in [p for p in rel.split("/") if p not in ("", ".")]:
            current = current / part
            self.touched.add(str(current))

    def inputs(self) -> dict[str, list[int] | None]:
        """Signatures of everything this build read or listed (lamina.build.replay)."""
        from lamina.build.replay import signature

        paths = set(self.touched) | {str(self.root / ".dockerignore")}
        for tree in self.trees:
            for dirpath, dirnames, filenames in os.walk(tree):
                paths.update(os.path.join(dirpath, n) for n in (*dirnames, *filenames))
        return {p: signature(p) for p in sorted(paths)}

    # -- sums remembered between builds ----------------------------------------

    def load_memo(self, path: Path) -> None:
        """Reuse file sums an earlier build of this directory stored at ``path``."""
        if self.owned:
            return  # an unpacked tar is new every time
        try:
            known = json.loads(path.read_bytes())
        except (OSError, ValueError):
            known = {}
        self.memo = SumMemo(known if isinstance(known, dict) else {})

    def save_memo(self, path: Path) -> None:
        """Keep the sums this build used (only those, so the file stays the context's size)."""
        if self.memo is None or self.memo.used == self.memo.known:
            return
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self.memo.used, separators=(",", ":")))
        os.replace(tmp, path)

    # -- what the context holds ------------------------------------------------

    def included(self, rel: str) -> bool:
        return rel in ("", ".") or not self.matcher.excluded(rel)

    def read_dockerfile(self, name: str) -> tuple[str, str]:
        """(text, display name) of the Dockerfile.

        As with docker: ``-f`` is relative to the current directory for a directory context
        (falling back to the context), and a path inside the tar for a tar context.
        """
        if self.dockerfile_text is not None:
            return self.dockerfile_text, "Dockerfile"
        inside = self.root / name.lstrip("/") if not os.path.isabs(name) or self.owned else None
        candidates = [p for p in (Path(name) if not self.owned else None, inside) if p]
        if name == "Dockerfile":
            candidates = [self.root / "Dockerfile"]
        self.touched.update(str(p) for p in candidates)
        for path in candidates:
            if path.is_file():
                self._dockerfile_ignore(path)
                return path.read_text(encoding="utf-8"), name
        looked = ", ".join(str(p) for p in candidates)
        raise ContextError(f"cannot find Dockerfile {name!r} (looked at {looked})")

    def _dockerfile_ignore(self, dockerfile: Path) -> None:
        """BuildKit's ``<Dockerfile>.dockerignore``, next to the Dockerfile, replaces the
        context's .dockerignore (Dockerfile reference, ".dockerignore file")."""
        specific = dockerfile.with_name(dockerfile.name + ".dockerignore")
        self.touched.add(str(specific))
        if specific.is_file():
            from lamina.build.dockerignore import parse_patterns

            text = specific.read_text(encoding="utf-8", errors="replace")
            self.matcher = IgnoreMatcher(parse_patterns(text))

    def normalize(self, src: str, keyword: str) -> str:
        """A source path made relative to the context; refused when it climbs out."""
        rel = posixpath.normpath(src.lstrip("/") or ".")
        if rel == ".." or rel.startswith("../"):
            raise ContextError(f"{keyword} failed: forbidden path outside the build context: "
                               f"{src}")
        return rel.removeprefix("./")

    def resolve(self, rel: str, keyword: str) -> tuple[str, Path]:
        """(rel, host path) of an existing, included source; symlinks followed in scope."""
        host = self.root / rel if rel not in ("", ".") else self.root
        self._touch_path(rel)
        if os.path.realpath(host) != str(host):
            # A symlink on the way: follow it as if the context were the root.
            from lamina.runtime.rootpath import resolve  # a slow import, needed only here

            host = resolve(self.root, rel)
        real_rel = host.relative_to(self.root).as_posix() if host != self.root else "."
        if not os.path.lexists(host) or not self.included(real_rel) or not self.included(rel):
            raise ContextError(f"{keyword} failed: file not found in build context or excluded "
                               f"by .dockerignore: stat {rel}: file does not exist")
        return real_rel, host

    def glob(self, pattern: str) -> list[str]:
        """Context paths matching ``pattern`` (Go filepath.Match), in walk order."""
        regex = go_match_regex(pattern)
        return [rel for rel in self.walk() if regex.match(rel)]

    def walk(self, start: str = ".") -> Iterator[str]:
        """Every included path under ``start``, in lexical walk order (start itself left out)."""
        base = self.root if start == "." else self.root / start

        def visit(directory: Path, prefix: str) -> Iterator[str]:
            self.touched.add(str(directory))
            try:
                names = sorted(os.listdir(directory))
            except NotADirectoryError:
                return
            for name in names:
                rel = f"{prefix}{name}"
                if not self.included(rel):
                    if self.matcher.has_exceptions and (directory / name).is_dir():
                        yield from visit(directory / name, rel + "/")
                    continue
                yield rel
                full = directory / name
                if full.is_dir() and not full.is_symlink():
                    yield from visit(full, rel + "/")

        yield from visit(base, "" if start == "." else start + "/")

    def sum(self, rel: str) -> str:
        """docker's ``file:``/``dir:`` checksum of a source, computed once per build."""
        if rel not in self._sums:
            self._sums[rel] = source_sum(self.root, rel, self.included, memo=self.memo)
            path = self.root / rel if rel not in ("", ".") else self.root
            self.touched.add(str(path))
            if path.is_dir() and not path.is_symlink():
                self.trees.add(str(path))
        return self._sums[rel]


def _is_tar(data: bytes) -> bool:
    if data[:2] == b"\x1f\x8b" or data[:3] == b"BZh" or data[:6] == b"\xfd7zXZ\x00":
        return True
    return len(data) >= 262 and data[257:262] == b"ustar"
