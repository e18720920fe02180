"""Remote build contexts, as ``docker build URL`` takes them.

A Git URL (``git://``, ``git@``, ``ssh://``, or ``http(s)://``/``file://`` ending
in ``.git``), with an optional ``#REF[:SUBDIR]`` fragment (Dockerfile reference /
docker build, "Git repositories"): cloned with the ``git`` client, the branch,
tag or commit checked out, SUBDIR used as the context. Any other ``http(s)://``
URL is downloaded: a tarball is the context, a plain file is the Dockerfile.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import urllib.request
from pathlib import Path

from lamina.errors import LaminaError

_GIT = re.compile(r"^(git://|git@|ssh://|github\.com/)|\.git(#|$)")


class RemoteContextError(LaminaError):
    """A remote context that cannot be fetched."""


def is_remote(source: str) -> bool:
    return bool(_GIT.search(source)) or source.startswith(("http://", "https://"))


def is_git(source: str) -> bool:
    return bool(_GIT.search(source))


def clone(url: str, into: Path) -> Path:
    """The context directory of Git URL ``url`` (cloned under ``into``)."""
    return checkout(url, into, what="context")[0]


def checkout(url: str, into: Path, *, what: str, keep_git_dir: bool = False) -> tuple[Path, str]:
    """(the directory URL's ``#REF:SUBDIR`` names, the commit checked out), cloned under
    ``into``; ``.git`` removed unless ``keep_git_dir`` (docker sends none; ADD keeps it on
    request). ``what`` names the caller in errors: "context", "ADD"."""
    git = shutil.which("git")
    if git is None:
        raise RemoteContextError(f"{what} {url}: a Git source needs git (apt install git)")
    repo, _, fragment = url.partition("#")
    ref, _, subdir = fragment.partition(":")
    target = into / "repo"
    attempts = [[git, "clone", "--quiet", "--depth", "1", *(["--branch", ref] if ref else []),
                 repo, str(target)]]
    if ref:  # a commit: the whole history, then check it out
        attempts.append([git, "clone", "--quiet", repo, str(target)])
    error = ""
    for command in attempts:
        shutil.rmtree(target, ignore_errors=True)
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode == 0:
            if ref and "--branch" not in command:
                checkout = subprocess.run([git, "-C", str(target), "checkout", "--quiet", ref],
                                          capture_output=True, text=True)
                if checkout.returncode != 0:
                    error = checkout.stderr.strip()
                    continue
            break
        error = done.stderr.strip()
    else:
        raise RemoteContextError(f"{what} {url}: git could not fetch "
                                 f"{ref or 'the default branch'}: {error}")
    context = (target / subdir).resolve() if subdir else target
    if not context.is_dir() or not context.is_relative_to(target.resolve()):
        raise RemoteContextError(f"{what} {url}: {subdir} is not a directory of the repository")
    commit = subprocess.run([git, "-C", str(target), "rev-parse", "HEAD"], capture_output=True,
                            text=True, check=True).stdout.strip()
    if not keep_git_dir:
        shutil.rmtree(target / ".git", ignore_errors=True)
    return context, commit


def download(url: str, into: Path) -> Path:
    """The downloaded file of a URL context (a tarball, or a Dockerfile)."""
    target = into / "context.download"
    try:
        with urllib.request.urlopen(url, timeout=60) as response, target.open("wb") as out:
            shutil.copyfileobj(response, out)
    except OSError as exc:
        raise RemoteContextError(f"context {url}: download failed: {exc}") from exc
    return target


def fetch_dir(prefix: str = "lamina-remote-") -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix))
