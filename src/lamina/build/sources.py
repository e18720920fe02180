"""COPY and ADD steps: resolving sources (context, stage, image, URL), their checksums, the copy.

Docker's history text for these steps is ``COPY [--chown=U:G]file:<sum> in DEST ``
(no space after the chown flag, a trailing space), with ``dir:`` for a
directory and ``multi:`` when several sources are copied; the cache key adds
what docker's text leaves out (``--chmod``, the ``--from`` image).
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lamina.build.cache import cache_key
from lamina.build.context import go_match_regex, has_wildcards
from lamina.build.copyflags import CopyFlags, keeping, parent_matches, pivot
from lamina.build.copying import (
    Ownership,
    copy_file,
    copy_source,
    copy_under,
    destination,
    make_dirs,
    resolve,
)
from lamina.build.fetchedsources import clone, download
from lamina.build.image import ImageState, commit
from lamina.build.plan import stage_ref
from lamina.build.remotecontext import is_git
from lamina.build.snapshot import readonly, scratch, take_layer, writable
from lamina.build.sourcehash import entry_sum, join_sums, source_sum
from lamina.dockerfile import Instruction, expand
from lamina.errors import LaminaError

if TYPE_CHECKING:
    from lamina.build.stepcontext import StageRun, StepContext


class CopyError(LaminaError):
    """A COPY/ADD source or destination is not usable."""


@dataclass(frozen=True)
class Source:
    name: str  # the base name a file gets under a directory destination
    path: Path  # where it is on the host
    sum: str  # file:<hex> / dir:<hex>
    archive: bool = False  # ADD of a local tar: extract it
    url: bool = False
    parents: bool = False  # COPY --parents: ``name`` is the path under the destination


def _lookup(text: str | None, name: str, kind: str) -> int:
    if name.isdigit():
        return int(name)
    for line in (text or "").splitlines():
        fields = line.split(":")
        if fields and fields[0] == name and len(fields) > 2 and fields[2].isdigit():
            return int(fields[2])
    where = "passwd" if kind == "user" else "group"
    raise CopyError(f"--chown: unable to find {kind} {name}: no matching entries in {where} file")


def ownership(root: Path, chown: str | None, chmod: str | None) -> Ownership:
    mode = None
    if chmod:
        try:
            mode = int(chmod, 8)
        except ValueError:
            raise CopyError(f"--chmod={chmod}: only octal modes are supported") from None
        if not 0 <= mode <= 0o7777:
            raise CopyError(f"--chmod={chmod}: mode out of range")
    if not chown:
        return Ownership(0, 0, mode)
    from lamina.runtime.rootpath import read_text

    user, _, group = chown.partition(":")
    group = group or user
    uid = _lookup(read_text(root, "/etc/passwd"), user, "user")
    gid = _lookup(read_text(root, "/etc/group"), group, "group")
    return Ownership(uid, gid, mode)


class CopyStep:
    def __init__(self, build: StepContext, run: StageRun, instruction: Instruction,
                 words: list[str], env: dict[str, str]) -> None:
        self.build = build
        self.run = run
        self.instruction = instruction
        self.keyword = instruction.keyword
        if len(words) < 2:
            raise CopyError(f"line {instruction.start_line}: {self.keyword} requires at least "
                            "two arguments: a source and a destination")
        self.sources = words[:-1]
        self.flags = CopyFlags.parse(instruction, self.sources, _is_url,
                                     lambda s: self.keyword == "ADD" and is_git(s))
        self.dest = words[-1]
        escape = build.escape
        self.chown = _flag(instruction, "chown", env, escape)
        self.chmod = _flag(instruction, "chmod", env, escape)
        self.from_ = _flag(instruction, "from", env, escape) if self.keyword == "COPY" else None
        self._tmp: Path | None = None

    # -- sources ---------------------------------------------------------------

    @contextlib.contextmanager
    def _source_root(self) -> Iterator[tuple[Path | None, str]]:
        """(root of a --from image or stage, its ID); (None, "") for the build context."""
        if self.from_ is None:
            yield None, ""
            return
        named = self.build.request.build_contexts.get(self.from_)
        if named is not None and named.kind == "dir":  # --build-context NAME=DIR
            yield named.directory, f"context:{named.value}"
            return
        dockerfile = self.build.dockerfile
        assert dockerfile is not None
        stage = stage_ref(dockerfile, self.from_, self.run.stage.index)
        image = (self.build.results[stage.index] if stage is not None
                 else self.build.base_image(self.from_))
        with readonly(self.build.store, image) as root:
            yield root, image.image_id

    def _scratch(self, stack: contextlib.ExitStack) -> Path:
        """A private temp dir for downloads and heredoc files, made on first use."""
        if self._tmp is None:
            self._tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="lamina-src-")))
        return self._tmp

    def _context_sources(self, stack: contextlib.ExitStack) -> list[Source]:
        ctx = self.build.context
        out: list[Source] = []
        for src in self.sources:
            if self.keyword == "ADD" and is_git(src):
                self.build.transcript.replayable = False  # what a branch points at can change any time
                repo = clone(src, self._scratch(stack), self.flags)
                out.append(Source(".", repo, source_sum(repo, ".", lambda _r: True, image=True)))
                continue
            if self.keyword == "ADD" and _is_url(src):
                self.build.transcript.replayable = False  # what a URL serves can change any time
                name, path = download(src, self._scratch(stack), self.flags)
                # docker hashes a download like a file of an image (lazy context) and, unlike
                # every other source, writes the sum without a "file:" prefix.
                out.append(Source(name, path, entry_sum(path, name, image=True), url=True,
                                  archive=bool(self.flags.unpack) and _is_archive(path)))
                continue
            heredoc = self._heredoc(src)
            if heredoc is not None:
                path = self._scratch(stack) / heredoc[0]
                path.write_text(heredoc[1])
                os.chmod(path, 0o644)
                out.append(Source(heredoc[0], path, "file:" + entry_sum(path, heredoc[0])))
                continue
            if self.flags.parents:
                out.extend(self._parents_sources(src, None))
                continue
            rel = ctx.normalize(src, self.keyword)
            matches = ctx.glob(rel) if has_wildcards(rel) else [rel]
            for match in matches:
                real_rel, host = ctx.resolve(match, self.keyword)
                archive = (self.keyword == "ADD" and self.flags.unpack is not False
                           and host.is_file() and _is_archive(host))
                out.append(Source(posixpath.basename(match) or ".", host, ctx.sum(real_rel),
                                  archive=archive))
        return out

    def _not_excluded(self, sources: list[Source]) -> list[Source]:
        """Sources --exclude leaves: a file by the path it gets under the destination."""
        matcher = self.flags.matcher()
        if matcher is None:
            return sources
        return [s for s in sources if s.path.is_dir() or not matcher.excluded(s.name)]

    def _heredoc(self, src: str) -> tuple[str, str] | None:
        if not src.startswith("<<"):
            return None
        name = src.lstrip("<-").strip("'\"")
        for doc in self.instruction.heredocs:
            if doc.name == name:
                return name, doc.body
        return None

    def _parents_sources(self, src: str, root: Path | None) -> list[Source]:
        """COPY --parents: what ``src`` matches below its pivot, named by its path from there."""
        top, pattern = pivot(src)
        ctx = self.build.context
        if root is None:
            top = ctx.normalize(top, self.keyword)
            base = ctx.resolve(top, self.keyword)[1]
            paths = [posixpath.relpath(p, top) for p in ctx.walk(top)] if top != "." \
                else list(ctx.walk())
        else:
            base = resolve(root, top) if top != "." else root
            paths = list(_walk(base))
        matches = parent_matches(pattern, paths)
        if not matches and not has_wildcards(pattern):
            raise CopyError(f"{self.keyword} failed: stat {src}: file does not exist")
        out = []
        for match in matches:
            if root is None:
                real_rel, host = ctx.resolve(posixpath.join(top, match), self.keyword)
                digest = ctx.sum(real_rel)
            else:
                host = resolve(root, posixpath.join(top, match))
                digest = source_sum(root, host.relative_to(root).as_posix(), lambda _r: True,
                                    image=True)
            out.append(Source(match, base / match if root is None else host, digest,
                              parents=True))
        return out

    def _image_sources(self, root: Path) -> list[Source]:
        out: list[Source] = []
        for src in self.sources:
            if self.flags.parents:
                out.extend(self._parents_sources(src, root))
                continue
            rel = posixpath.normpath("/" + src).lstrip("/") or "."  # ".." stops at the root
            if has_wildcards(rel):
                regex = go_match_regex(rel)
                matches = [m for m in _walk(root) if regex.match(m)]
            else:
                matches = [rel]
            for match in matches:
                host = resolve(root, match) if match != "." else root
                if not os.path.lexists(host):
                    raise CopyError(f"{self.keyword} failed: stat {src}: file does not exist "
                                    f"in --from={self.from_}")
                real = host.relative_to(root).as_posix() if host != root else "."
                out.append(Source(posixpath.basename(match) or ".", host,
                                  source_sum(root, real, lambda _rel: True, image=True)))
        return out

    # -- the step ----------------------------------------------------------------

    def execute(self) -> None:
        build, run = self.build, self.run
        with contextlib.ExitStack() as stack:
            root, source_image = stack.enter_context(self._source_root())
            sources = (self._context_sources(stack) if root is None
                       else self._image_sources(root))
            sources = self._not_excluded(sources)
            if not sources:
                raise CopyError(f"{self.keyword} failed: no source files were specified")
            if len(sources) > 1 and not self.dest.endswith("/"):
                raise CopyError(f"When using {self.keyword} with more than one source file, the "
                                "destination must be a directory and end with a /")
            digest = (sources[0].sum if len(sources) == 1
                      else join_sums("multi", [s.sum for s in sources]))
            chown_comment = f"--chown={self.chown}" if self.chown else ""
            created_by = build.created_by(
                run, f"{self.keyword} {self.flags.history()}{chown_comment}{digest} in "
                f"{self.dest} ", nop_gap=" ")
            extra: list[object] = [self.chmod, self.from_ and source_image, self.keyword]
            if self.flags != CopyFlags(self.flags.line, self.keyword):  # keys stay as they were
                extra.append([*self.flags.key(), [s.name for s in sources]])
            key = cache_key(run.image.image_id, created_by, run.config, extra)
            hit = build.cached(run, key)
            config = run.config
            if hit is not None:
                build.adopt(run, hit, None, config)
                return
            image = self._copy(sources, root, created_by)
            build.adopt(run, image, key, config)

    def _copy(self, sources: list[Source], source_root: Path | None, created_by: str
              ) -> ImageState:
        build, run = self.build, self.run
        store = build.store
        workdir = run.config.get("WorkingDir") or "/"
        ctx = build.context
        root_dir = ctx.root

        def included(path: Path) -> bool:
            if source_root is not None:
                return True
            try:
                rel = path.relative_to(root_dir).as_posix()
            except ValueError:
                return True
            return ctx.included(rel)

        build.require_privileges(self.keyword)
        with scratch(store) as space:
            with writable(store, run.image, space) as root:
                owner = ownership(root, self.chown, self.chmod)
                dest, dest_is_dir = destination(root, self.dest, workdir)
                matcher = self.flags.matcher()
                descend = source_root is None and ctx.matcher.has_exceptions
                descend = descend or bool(matcher and matcher.has_exceptions)
                for source in sources:
                    base = source.path.parents[source.name.count("/")] if source.parents \
                        else source.path
                    keep = keeping(included, matcher, base)
                    if source.parents:
                        copy_under(root, source.path, source.name, dest, owner, keep, descend)
                    elif source.archive:
                        host = make_dirs(root, dest, owner)
                        _extract(source.path, host)
                    elif source.url:
                        target = dest.rstrip("/") + "/" + source.name if dest_is_dir else dest
                        make_dirs(root, posixpath.dirname(target) or "/", owner)
                        copy_file(source.path, resolve(root, target), owner)
                    else:
                        copy_source(root, source.path, source.name, dest, dest_is_dir, owner,
                                    keep, descend)
            layer = take_layer(store, space.upper, epoch=build.request.epoch,
                               reproducible=build.request.reproducible,
                               compression=build.request.compression)
        return commit(store, run.image, run.config, created_by, layer=layer,
                      epoch=build.request.epoch, empty_layer=False if layer else None)


def _flag(instruction: Instruction, name: str, env: dict[str, str], escape: str) -> str | None:
    value = instruction.flag(name)
    return None if value is None else expand(value, env, escape)


def _walk(root: Path) -> Iterator[str]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            yield (Path(dirpath) / name).relative_to(root).as_posix()


def _is_url(text: str) -> bool:
    return text.startswith(("http://", "https://"))


def _is_archive(path: Path) -> bool:
    import tarfile  # only ADD needs it

    try:
        return tarfile.is_tarfile(path)
    except OSError:
        return False


def _extract(archive: Path, target: Path) -> None:
    """ADD of a local tar: unpacked into the destination, refusing members that escape it."""
    import tarfile

    with tarfile.open(archive) as tar:
        members = []
        for member in tar:
            name = posixpath.normpath(member.name.lstrip("/"))
            if name == ".." or name.startswith("../"):
                raise CopyError(f"ADD {archive.name}: member {member.name!r} would land outside "
                                "the destination")
            if member.islnk() or member.issym():
                link = member.linkname
                base = posixpath.dirname(name) if member.issym() else ""
                joined = posixpath.normpath(posixpath.join(base, link.lstrip("/")))
                if joined.startswith("../") and not link.startswith("/"):
                    raise CopyError(f"ADD {archive.name}: link {member.name!r} points outside "
                                    "the destination")
            member.name = name
            members.append(member)
        tar.extractall(target, members=members, numeric_owner=True, filter="fully_trusted")
