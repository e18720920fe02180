"""One pass over a layer tar: each member's metadata and a content hash, never the contents.

Regular files are hashed (sha256) as their bytes stream past, so duplicates can
be found without keeping anything. A few small files are looked at more
closely on the way: ``os-release`` is kept (to name the base image) and the
first bytes of key-looking files are checked for a ``PRIVATE KEY`` header.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import BinaryIO, Final

import zstandard

from lamina.analyze.tarheaders import RawMember, TarHeaders
from lamina.layers import whiteout
from lamina.layers.compression import open_reader
from lamina.layers.tarstream import DIR, FILE, HARDLINK, InvalidLayer, member_path

OS_RELEASE_PATHS: Final = frozenset({"etc/os-release", "usr/lib/os-release"})
_OS_RELEASE_MAX: Final = 16 * 1024
_KEY_NAMES: Final = frozenset({"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519"})
_KEY_SUFFIXES: Final = (".pem", ".key")
_ENV_NAMES: Final = frozenset({".env"})
_KEY_HEAD: Final = 4096

SECRET_PRIVATE_KEY: Final = "private-key"
SECRET_ENV_FILE: Final = "env-file"


@dataclass(slots=True)
class LayerFile:
    """One member of one layer (not a whiteout), as far as analysis needs it."""

    path: str  # relative, normalised ("etc/passwd")
    kind: str  # tarstream kinds: file, dir, symlink, hardlink, char, block, fifo
    size: int  # content bytes of a regular file; 0 for everything else
    mode: int
    uid: int
    gid: int
    linkname: str
    layer: int
    digest: str = ""  # sha256 hex of the content, regular files only
    secret: str = ""  # SECRET_* when the file looks like a secret

    @property
    def is_dir(self) -> bool:
        return self.kind == DIR


@dataclass
class LayerScan:
    """What one layer tar holds: its members in tar order, whiteouts and opaque dirs."""

    index: int
    files: list[LayerFile] = field(default_factory=list)
    whiteouts: list[str] = field(default_factory=list)  # paths deleted from lower layers
    opaque: list[str] = field(default_factory=list)  # dirs whose lower children are hidden
    os_release: str = ""  # text of etc/os-release when this layer ships it
    tar_bytes: int = 0  # length of the uncompressed tar
    content_bytes: int = 0  # the layer's regular-file bytes (docker's and dive's layer size)


def _key_candidate(base: str) -> bool:
    return base in _KEY_NAMES or base.endswith(_KEY_SUFFIXES)


def _read_content(reader: TarHeaders, *, keep_head: int) -> tuple[str, bytes]:
    """sha256 of the current member's content and its first ``keep_head`` bytes."""
    hasher = hashlib.sha256()
    head = b""
    for piece in reader.content():
        if len(head) < keep_head:
            head += bytes(piece[: keep_head - len(head)])
        hasher.update(piece)
    return hasher.hexdigest(), head


def scan_layer(stream: BinaryIO, index: int, compression: str | None = None) -> LayerScan:
    """Read a layer tar (compressed or not) once and return what it holds.

    The stream is read to its end even after the tar's end-of-archive blocks, so a
    verifying reader (the store's) gets to check the blob's digest.
    """
    scan = LayerScan(index)
    try:
        plain = open_reader(stream, compression)
        try:
            reader = TarHeaders(plain)
            for member in reader.members():
                _add_member(scan, reader, member)
            scan.tar_bytes = reader.offset
            while plain.read(1 << 20):
                pass
        finally:
            plain.close()
    except (OSError, EOFError, zstandard.ZstdError) as exc:
        raise InvalidLayer(f"layer {index} cannot be decompressed: {exc}") from exc
    return scan


def _add_member(scan: LayerScan, reader: TarHeaders, member: RawMember) -> None:
    path = member_path(member.name)
    if not path:
        return  # the layer root "./" is not a file of the image
    kind = member.kind
    base = path.rpartition("/")[2]
    if base.startswith(whiteout.WHITEOUT_PREFIX):
        if base == whiteout.OPAQUE:
            scan.opaque.append(whiteout.whiteout_target(path))
        elif not whiteout.is_meta(base):
            scan.whiteouts.append(whiteout.whiteout_target(path))
        return
    linkname = member_path(member.linkname) if kind == HARDLINK else member.linkname
    item = LayerFile(path, kind, member.size, member.mode, member.uid, member.gid,
                     linkname, scan.index)
    if kind == FILE:
        scan.content_bytes += member.size
        if base in _ENV_NAMES:
            item.secret = SECRET_ENV_FILE
        wants_os = path in OS_RELEASE_PATHS and member.size <= _OS_RELEASE_MAX
        wants_key = _key_candidate(base)
        keep = _OS_RELEASE_MAX if wants_os else (_KEY_HEAD if wants_key else 0)
        item.digest, head = _read_content(reader, keep_head=keep)
        if wants_os:
            scan.os_release = head.decode("utf-8", "replace")
        if wants_key and b"PRIVATE KEY-----" in head:
            item.secret = SECRET_PRIVATE_KEY
    scan.files.append(item)

