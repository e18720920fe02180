"""A layer's listing made the slow and obvious way: Python's tarfile reads every member
and BLAKE3 hashes every regular file, independently of the indexers (tarindex.py,
seekindex.py), which tests hold to it."""

from __future__ import annotations

import tarfile
from typing import BinaryIO

from blake3 import blake3

from lamina.layers import layerindex, whiteout
from lamina.layers.layerindex import KIND_CODES, LayerIndex
from lamina.layers.tarstream import FILE, HARDLINK, SYMLINK, member_path, member_type

KEY_NAMES = {"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519"}
_SIZED = {tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.CONTTYPE}


def reference_index(plain: BinaryIO) -> LayerIndex:
    """The listing of the uncompressed layer tar ``plain``, hashed."""
    out = LayerIndex()
    digests = bytearray()
    with tarfile.open(fileobj=plain, mode="r|", encoding="utf-8",
                      errors="surrogateescape") as tar:
        for member in tar:
            kind = member_type(member)
            if member.type in _SIZED:
                out.content_size += member.size
            elif kind == SYMLINK:
                out.content_size += len(member.linkname.encode("utf-8", "surrogateescape"))
            path = member_path(member.name)
            if not path:
                continue
            base = path.rpartition("/")[2]
            flags = 0
            if base.startswith(whiteout.WHITEOUT_PREFIX):
                flags = (layerindex.OPAQUE if base == whiteout.OPAQUE else layerindex.AUFS_META
                         if whiteout.is_meta(base) else layerindex.WHITEOUT)
            digest = bytes(32)
            if kind == FILE and not flags:
                handle = tar.extractfile(member)
                data = handle.read() if handle is not None else b""
                digest = blake3(data).digest()
                if path in ("etc/os-release", "usr/lib/os-release") and len(data) <= 16384:
                    out.os_release = data.decode("utf-8", "replace")
                if (base in KEY_NAMES or base.endswith((".pem", ".key"))) \
                        and b"PRIVATE KEY-----" in data[:4096]:
                    flags = layerindex.PRIVATE_KEY
            out.kinds.append(KIND_CODES[kind])
            out.flags.append(flags)
            out.modes.append(member.mode & 0o7777)
            out.uids.append(member.uid)
            out.gids.append(member.gid)
            out.sizes.append(member.size if kind == FILE else 0)
            out.mtimes.append(int(member.mtime))
            out.offsets.append(member.offset_data)
            out.paths.append(path)
            out.links.append(member_path(member.linkname) if kind == HARDLINK else member.linkname)
            digests += digest
        out.tar_end = tar.offset
    out.digests = bytes(digests)
    return out
