"""ADD sources that come from elsewhere than the context: an HTTP(S) URL, a Git repository.

Dockerfile reference, "ADD": a URL is downloaded to a file of mode 0600 whose
mtime is the response's ``Last-Modified``; a Git repository is cloned at the
fragment's ref (and subdirectory), without ``.git`` unless ``--keep-git-dir``,
files 0644 (0755 when executable) and directories 0755. ``--checksum`` checks
the download's sha256 or the commit checked out.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import posixpath
import stat
from pathlib import Path

from lamina.build.copyflags import CopyFlags
from lamina.build.remotecontext import RemoteContextError, checkout
from lamina.errors import LaminaError


class FetchError(LaminaError):
    """A URL or repository an ADD names cannot be fetched."""


def download(url: str, tmp: Path, flags: CopyFlags) -> tuple[str, Path]:
    """(file name, path) of ``url`` downloaded into ``tmp``, its checksum verified."""
    import urllib.parse
    import urllib.request

    name = posixpath.basename(urllib.parse.urlparse(url).path) or "__unnamed__"
    path = tmp / name
    hasher = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=120) as response, path.open("wb") as out:
            while chunk := response.read(1 << 20):
                hasher.update(chunk)
                out.write(chunk)
            modified = response.headers.get("Last-Modified")
    except OSError as exc:
        raise FetchError(f"ADD failed: cannot download {url}: {exc}") from exc
    flags.verify_download(url, "sha256:" + hasher.hexdigest())
    os.chmod(path, 0o600)
    if modified:
        import email.utils

        with contextlib.suppress(TypeError, ValueError):
            stamp = email.utils.parsedate_to_datetime(modified).timestamp()
            os.utime(path, (stamp, stamp))
    return name, path


def clone(url: str, tmp: Path, flags: CopyFlags) -> Path:
    """The directory ``url`` names, cloned into ``tmp`` with the reference's modes."""
    try:
        directory, commit = checkout(url, tmp, what=f"line {flags.line}: ADD",
                                     keep_git_dir=bool(flags.keep_git_dir))
    except RemoteContextError as exc:
        raise FetchError(str(exc)) from exc
    flags.verify_commit(url, commit)
    for dirpath, dirnames, filenames in os.walk(directory):
        if posixpath.basename(dirpath) == ".git" or "/.git/" in dirpath + "/":
            continue  # a kept .git stays as git wrote it
        for name in dirnames:
            full = os.path.join(dirpath, name)
            if not os.path.islink(full):
                os.chmod(full, 0o755)
        for name in filenames:
            full = os.path.join(dirpath, name)
            mode = os.lstat(full).st_mode
            if stat.S_ISREG(mode):
                os.chmod(full, 0o755 if mode & 0o100 else 0o644)
    os.chmod(directory, 0o755)
    return directory
