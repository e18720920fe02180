"""``RUN --mount`` made real for one container: bind sources, caches, tmpfs, secrets, agents.

Nothing a mount provides is written into the step's layer: every mount point
is created in the rootfs's init layer (`lamina.runtime.rootfs`), bind and cache
sources live outside the upper dir, secrets come from a tmpfs file that is
removed when the step ends, and a ``rw`` bind gets a throwaway copy or overlay.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lamina.build.agentproxy import agent_proxy
from lamina.build.cachemounts import CacheMounts
from lamina.build.context import BuildContext
from lamina.build.image import ImageState
from lamina.build.mountspec import MountError, MountSpec
from lamina.build.namedcontexts import NamedContext
from lamina.build.secrets import BuildSecrets
from lamina.build.snapshot import Scratch, readonly, writable
from lamina.build.sourcehash import source_sum
from lamina.errors import LaminaError
from lamina.runtime import BindMount
from lamina.runtime.rootpath import resolve
from lamina.store.store import Store


@dataclass
class MountSources:
    """Where mounts come from: the store, the context, the secrets, and ``from=`` images."""

    store: Store
    context: BuildContext
    secrets: BuildSecrets
    cache_mounts: CacheMounts
    image_for: Callable[[str], ImageState]  # a stage's result or an image, by from= name
    named: dict[str, NamedContext] = field(default_factory=dict)  # --build-context

    def directory(self, name: str | None) -> Path | None:
        """The directory of a ``--build-context NAME=DIR`` that ``from=`` names."""
        found = self.named.get(name or "")
        return found.directory if found is not None and found.kind == "dir" else None


@dataclass
class Prepared:
    binds: list[BindMount] = field(default_factory=list)
    extra_mounts: list[dict[str, Any]] = field(default_factory=list)
    env: list[str] = field(default_factory=list)


def _where(spec: MountSpec, line: int) -> str:
    return f"line {line}: RUN --mount=type={spec.type}" + (f",target={spec.target}"
                                                           if spec.target else "")


def _image(spec: MountSpec, sources: MountSources, line: int) -> ImageState:
    assert spec.from_ is not None
    try:
        return sources.image_for(spec.from_)
    except LaminaError as exc:
        raise MountError(f"{_where(spec, line)}: from={spec.from_} is neither an earlier stage "
                         f"nor an image that can be found: {exc}") from exc


def key_of(specs: list[MountSpec], sources: MountSources, line: int) -> list[object]:
    """What the mounts add to the step's cache key: options, and what bind/cache sources hold."""
    out: list[object] = []
    for spec in specs:
        origin: object = None
        directory = sources.directory(spec.from_)
        if spec.type == "bind" and directory is not None:
            origin = source_sum(directory, spec.source.strip("/") or ".", lambda _rel: True)
        elif spec.type in ("bind", "cache") and spec.from_ is not None:
            origin = _image(spec, sources, line).image_id
        elif spec.type == "bind":
            rel = sources.context.normalize(spec.source, "RUN --mount")
            sources.context.resolve(rel, f"{_where(spec, line)},source={spec.source}")
            origin = sources.context.sum(rel)
        out.append([*spec.key(), origin])
    return out


def prepare(specs: list[MountSpec], sources: MountSources, stack: contextlib.ExitStack,
            tmp: Path, line: int) -> Prepared:
    """Every mount of the step, ready; what they hold goes away when ``stack`` closes."""
    out = Prepared()
    for number, spec in enumerate(specs):
        space = tmp / f"mount-{number}"
        space.mkdir()
        _PREPARE[spec.type](spec, sources, stack, space, out, line)  # types checked by mountspec
    return out


def _bind(spec: MountSpec, sources: MountSources, stack: contextlib.ExitStack, space: Path,
          out: Prepared, line: int) -> None:
    out.binds.append(BindMount(_bind_source(spec, sources, stack, space, line), spec.target,
                               readonly=spec.readonly))


def _cache_mount(spec: MountSpec, sources: MountSources, stack: contextlib.ExitStack,
                 space: Path, out: Prepared, line: int) -> None:
    data = stack.enter_context(_cache(spec, sources, line))
    out.binds.append(BindMount(data, spec.target, readonly=spec.readonly))


def _tmpfs(spec: MountSpec, sources: MountSources, stack: contextlib.ExitStack, space: Path,
           out: Prepared, line: int) -> None:
    options = ["nosuid", "nodev"] + ([f"size={spec.size}"] if spec.size else [])
    out.extra_mounts.append({"destination": spec.target, "type": "tmpfs", "source": "tmpfs",
                             "options": options})


def _bind_source(spec: MountSpec, sources: MountSources, stack: contextlib.ExitStack,
                 space: Path, line: int) -> Path:
    if spec.from_ is None:
        # The context as it was sent (.dockerignore applied), copied so writes never reach it.
        context = sources.context
        rel = context.normalize(spec.source, "RUN --mount")
        real, host = context.resolve(rel, f"{_where(spec, line)},source={spec.source}")
        target = space / "src"
        if host.is_dir() and not host.is_symlink():
            target.mkdir()
            shutil.copystat(host, target)
            for sub in context.walk(real):
                inner = sub[len(real) + 1:] if real != "." else sub
                _copy_entry(context.root / sub, target / inner)
        else:
            _copy_entry(host, target)
        return target
    directory = sources.directory(spec.from_)
    if directory is not None:  # a named context: copied, so writes never reach it
        host = resolve(directory, spec.source or "/")
        if not os.path.lexists(host):
            raise MountError(f"{_where(spec, line)}: source={spec.source} does not exist in "
                             f"build context {spec.from_}")
        target = space / "src"
        if host.is_dir():
            shutil.copytree(host, target, symlinks=True)
        else:
            _copy_entry(host, target)
        return target
    image = _image(spec, sources, line)
    if spec.readonly:
        root = stack.enter_context(readonly(sources.store, image))
    else:
        scratch = Scratch(space)
        scratch.upper.mkdir()
        root = stack.enter_context(writable(sources.store, image, scratch))
    host = resolve(root, spec.source or "/")
    if not os.path.lexists(host):
        raise MountError(f"{_where(spec, line)}: source={spec.source} does not exist in "
                         f"from={spec.from_}")
    return host


def _copy_entry(src: Path, dst: Path) -> None:
    if src.is_symlink():
        os.symlink(os.readlink(src), dst)
    elif src.is_dir():
        dst.mkdir()
        shutil.copystat(src, dst)
    else:
        shutil.copy2(src, dst)


@contextlib.contextmanager
def _cache(spec: MountSpec, sources: MountSources, line: int) -> Iterator[Path]:
    image = _image(spec, sources, line) if spec.from_ is not None else None

    def seed(fresh: Path) -> None:
        if image is None:
            return
        with readonly(sources.store, image) as root:
            host = resolve(root, spec.source or "/")
            if host.is_dir():
                shutil.copytree(host, fresh, symlinks=True, dirs_exist_ok=True)
            elif host.exists():
                raise MountError(f"{_where(spec, line)}: source={spec.source} in "
                                 f"from={spec.from_} is not a directory")

    with sources.cache_mounts.acquire(
            spec.id, sharing=spec.sharing, base=image.image_id if image else None,
            mode=spec.mode, uid=spec.uid, gid=spec.gid, seed=seed) as data:
        yield data


def _missing(spec: MountSpec, line: int, flag: str) -> None:
    if spec.required:
        raise MountError(f"{_where(spec, line)},id={spec.id}: {spec.type} {spec.id!r} is "
                         f"required but was not given (pass {flag})")


def _secret(spec: MountSpec, sources: MountSources, stack: contextlib.ExitStack, space: Path,
            out: Prepared, line: int) -> None:
    value = sources.secrets.secrets.get(spec.id)
    if value is None:
        _missing(spec, line, f"--secret id={spec.id},src=FILE or env=VAR")
        return
    if spec.env:
        out.env.append(f"{spec.env}={value.decode('utf-8', 'replace')}")
    if not spec.target:
        return
    # Memory-backed when the host has /dev/shm: the secret never touches a disk.
    shm = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    holder = Path(tempfile.mkdtemp(prefix="lamina-secret-", dir=shm))
    stack.callback(shutil.rmtree, holder, True)
    path = holder / "secret"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(value)
    os.chown(path, spec.uid, spec.gid)
    os.chmod(path, spec.mode)
    out.binds.append(BindMount(path, spec.target, readonly=True))


def _ssh(spec: MountSpec, sources: MountSources, stack: contextlib.ExitStack, space: Path,
         out: Prepared, line: int) -> None:
    upstream = sources.secrets.agent_socket(spec.id)
    if upstream is None:
        _missing(spec, line, f"--ssh {spec.id}[=SOCKET|KEY]")
        return
    sock = stack.enter_context(agent_proxy(upstream, space, mode=spec.mode, uid=spec.uid,
                                           gid=spec.gid))
    out.binds.append(BindMount(sock, spec.target))
    if not any(e.startswith("SSH_AUTH_SOCK=") for e in out.env):
        out.env.append(f"SSH_AUTH_SOCK={spec.target}")


_Prepare = Callable[[MountSpec, MountSources, contextlib.ExitStack, Path, Prepared, int], None]

# How each mount type (Dockerfile reference, "RUN --mount") is made ready for the container.
_PREPARE: dict[str, _Prepare] = {"bind": _bind, "cache": _cache_mount, "tmpfs": _tmpfs,
                                 "secret": _secret, "ssh": _ssh}
