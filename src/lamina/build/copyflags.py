"""COPY/ADD flags of the Dockerfile frontend beyond the classic builder's.

Dockerfile reference: ``COPY --parents``, ``COPY/ADD --exclude``,
``ADD --checksum``, ``ADD --keep-git-dir`` and ``ADD --unpack``. Booleans take
BuildKit's forms (bare ``--flag``, ``=true``, ``=false``, any case); ``--exclude``
may repeat and, as in BuildKit, is not variable-expanded.

Where the reference and BuildKit's copier differ, the reference wins: BuildKit
matches ``--exclude`` patterns only below each source, so a file that a
wildcard source names directly is copied even when a pattern matches it
(moby/buildkit#5489); here a pattern matches the path a file gets under the
destination (a directory source's contents: their path inside it; a file
source: its name; with ``--parents``: its path from the pivot), which gives
the reference's ``COPY --exclude=*.txt hom* /mydir/`` its documented result.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lamina.build.dockerignore import IgnoreFileError, IgnoreMatcher, parse_patterns
from lamina.dockerfile import Instruction
from lamina.errors import LaminaError

_GIT_SHA = re.compile(r"^[0-9a-f]{1,64}$")
_SHA256 = re.compile(r"^sha256:[0-9a-f]{64}$")


class CopyFlagError(LaminaError):
    """A COPY/ADD flag with a value the Dockerfile reference does not allow."""


def _bool(instruction: Instruction, name: str) -> bool | None:
    value = instruction.flag(name)
    if value is None:
        return None
    if value.lower() in ("", "true"):
        return True
    if value.lower() == "false":
        return False
    raise CopyFlagError(f"line {instruction.start_line}: expecting boolean value for flag "
                        f"{name}, not: {value}")


@dataclass(frozen=True)
class CopyFlags:
    line: int
    keyword: str
    parents: bool = False
    excludes: tuple[str, ...] = ()
    checksum: str | None = None
    keep_git_dir: bool | None = None
    unpack: bool | None = None

    @classmethod
    def parse(cls, instruction: Instruction, sources: list[str],
              is_url: Callable[[str], bool], is_git: Callable[[str], bool]) -> CopyFlags:
        line, keyword = instruction.start_line, instruction.keyword
        for name in ("parents", "keep-git-dir", "unpack", "checksum"):
            if sum(f.name == name for f in instruction.flags) > 1:
                raise CopyFlagError(f"line {line}: duplicate flag specified: {name}")
        excludes = tuple(f.value or "" for f in instruction.flags if f.name == "exclude")
        if any(not e for e in excludes):
            raise CopyFlagError(f"line {line}: missing a value on flag: exclude")
        flags = cls(line, keyword, bool(_bool(instruction, "parents")), excludes,
                    instruction.flag("checksum"), _bool(instruction, "keep-git-dir"),
                    _bool(instruction, "unpack"))
        flags._check_checksum(sources, is_url, is_git)
        flags.matcher()  # a malformed pattern stops the build before any step runs
        return flags

    def _check_checksum(self, sources: list[str], is_url: Callable[[str], bool],
                        is_git: Callable[[str], bool]) -> None:
        if self.checksum is None:
            return
        where = f"line {self.line}: ADD --checksum={self.checksum}"
        if len(sources) != 1:
            raise CopyFlagError(f"{where}: checksum can't be specified for multiple sources")
        if is_git(sources[0]):
            if not _GIT_SHA.match(self.checksum):
                raise CopyFlagError(f"{where}: a Git source's checksum is (a prefix of) its "
                                    "commit SHA in lowercase hex")
        elif is_url(sources[0]):
            if not _SHA256.match(self.checksum):
                raise CopyFlagError(f"{where}: an HTTP source's checksum is sha256:<64 hex "
                                    "digits> (SHA-256 is the only algorithm)")
        else:
            raise CopyFlagError(f"{where}: checksum requires HTTP(S) or Git sources")

    def matcher(self) -> IgnoreMatcher | None:
        if not self.excludes:
            return None
        try:
            return IgnoreMatcher(parse_patterns("\n".join(self.excludes)))
        except IgnoreFileError as exc:
            raise CopyFlagError(f"line {self.line}: {self.keyword} --exclude: "
                                f"{str(exc).removeprefix('.dockerignore: ')}") from exc

    def history(self) -> str:
        """The flags as the step's history text shows them (BuildKit's order)."""
        out = "--parents " if self.parents else ""
        return out + "".join(f"--exclude={e} " for e in self.excludes)

    def key(self) -> list[object]:
        return [self.parents, list(self.excludes), self.checksum, self.keep_git_dir,
                self.unpack]

    def verify_download(self, url: str, digest: str) -> None:
        """ADD --checksum of an HTTP source: the download's sha256 must be the one given."""
        if self.checksum is not None and self.checksum != digest:
            raise CopyFlagError(f"line {self.line}: ADD --checksum={self.checksum}: {url} has "
                                f"content digest {digest}, not the one given")

    def verify_commit(self, url: str, commit: str) -> None:
        """ADD --checksum of a Git source: a prefix of the commit checked out."""
        if self.checksum is not None and not commit.startswith(self.checksum):
            raise CopyFlagError(f"line {self.line}: ADD --checksum={self.checksum}: {url} "
                                f"checked out commit {commit}, which does not start with it")


def pivot(src: str) -> tuple[str, str]:
    """(directory kept out of the destination, pattern below it) of a ``--parents`` source.

    ``./x/./y/*.txt`` keeps only what follows the ``/./``; without one, the whole path."""
    parent, sep, pattern = src.partition("/./")
    if not sep:
        parent, pattern = "", src
    return posixpath.normpath("/" + parent).lstrip("/") or ".", \
        posixpath.normpath("/" + pattern).lstrip("/")


def parent_matches(pattern: str, paths: list[str]) -> list[str]:
    """The ``paths`` (in walk order) that ``pattern`` matches, topmost only: a matched
    directory brings all it holds (moby/patternmatcher, as BuildKit's include patterns)."""
    matcher = IgnoreMatcher(parse_patterns(pattern))
    out: list[str] = []
    for rel in paths:
        if out and rel.startswith(out[-1] + "/"):
            continue
        if matcher.excluded(rel):  # "excluded" here reads "matched"
            out.append(rel)
    return out


def keeping(included: Callable[[Path], bool], matcher: IgnoreMatcher | None,
            base: Path) -> Callable[[Path], bool]:
    """``included`` narrowed by --exclude, which matches a host path by its path from ``base``
    (where the source's contents start under the destination)."""
    if matcher is None:
        return included

    def keep(path: Path) -> bool:
        try:
            rel = path.relative_to(base).as_posix()
        except ValueError:
            return included(path)
        return included(path) and (rel in ("", ".") or not matcher.excluded(rel))

    return keep
