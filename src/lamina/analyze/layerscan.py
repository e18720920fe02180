"""What one layer holds, as analysis sees it: its files, whiteouts and opaque directories.

Made from the layer's index (layers/layerindex.py), which has every member's
metadata and content hash, the ``os-release`` text and private-key flags; a
layer with no stored index is indexed on the way (``scan_layer``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import BinaryIO, Final

from lamina.layers import layerindex, whiteout
from lamina.layers.kinds import DIR, FILE
from lamina.layers.layerindex import DIGEST_BYTES, KIND_CODES, KINDS, LayerIndex

_ENV_NAME: Final = ".env"

SECRET_PRIVATE_KEY: Final = "private-key"
SECRET_ENV_FILE: Final = "env-file"
_FILE_CODE: Final = KIND_CODES[FILE]
_SPECIAL: Final = layerindex.WHITEOUT | layerindex.OPAQUE | layerindex.AUFS_META


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
    digest: str = ""  # hex content hash (layerindex.CONTENT_HASH), regular files only
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


def scan_from_index(listing: LayerIndex, index: int,
                    only: Callable[[str], str | None] | None = None,
                    rows: Iterable[int] | None = None) -> LayerScan:
    """What layer ``index`` holds, from its stored index (no tar is read).

    With ``only``, a partial scan: ``only(path)`` is the path itself to keep a
    member, whiteout or opaque directory (an opaque root is always kept), None to
    leave it out, or another path to keep in its stead as a bare ``dir`` entry
    (once between kept members: it stands for the directories the member implied).
    ``rows`` (ascending) limits the scan to those rows: every row it leaves out must be
    one that ``only`` leaves out.
    """
    implied: set[str] = set()
    scan = LayerScan(index, tar_bytes=listing.tar_end, os_release=listing.os_release)
    files = scan.files
    digests = bytes(listing.digests)  # (no copy when already bytes) slices key a dict
    content = 0
    # one string per content: empty files, copies; a file left unhashed (its content is
    # unlike any other file's: see content_hashes.py) gets no digest
    seen: dict[bytes, str] = {} if listing.hashed else {bytes(layerindex.DIGEST_BYTES): ""}
    paths, kinds, flags, sizes = listing.paths, listing.kinds, listing.flags, listing.sizes
    modes, uids, gids, links = listing.modes, listing.uids, listing.gids, listing.links
    members: Iterable[tuple[str, int, int, int, int, int, int, str, int]]
    if rows is None:
        members = zip(paths, kinds, flags, sizes, modes, uids, gids, links,
                      range(0, DIGEST_BYTES * len(paths), DIGEST_BYTES), strict=True)
    else:
        members = ((paths[r], kinds[r], flags[r], sizes[r], modes[r], uids[r], gids[r],
                    links[r], r * DIGEST_BYTES) for r in rows)
    for path, code, flag, size, mode, uid, gid, link, at in members:
        if flag & _SPECIAL:
            if flag & (layerindex.OPAQUE | layerindex.WHITEOUT):
                target = whiteout.whiteout_target(path)
                if only is None or not target or only(target) == target:
                    (scan.opaque if flag & layerindex.OPAQUE else scan.whiteouts).append(target)
            continue
        if only is not None:
            kept = only(path)
            if kept != path:
                if kept is not None and kept not in implied:
                    implied.add(kept)
                    files.append(LayerFile(kept, DIR, 0, 0o755, 0, 0, "", index))
                continue
            if implied:  # a member kept after them may replace what they implied
                implied.clear()
        if code != _FILE_CODE:
            files.append(LayerFile(path, KINDS[code], size, mode, uid, gid, link, index))
            continue
        content += size
        raw = digests[at:at + DIGEST_BYTES]
        hexed = seen.get(raw)
        if hexed is None:
            hexed = seen[raw] = raw.hex()
        secret = SECRET_PRIVATE_KEY if flag & layerindex.PRIVATE_KEY else SECRET_ENV_FILE \
            if path.endswith(_ENV_NAME) and path.rpartition("/")[2] == _ENV_NAME else ""
        files.append(LayerFile(path, FILE, size, mode, uid, gid, link, index, hexed, secret))
    scan.content_bytes = content
    return scan


def scan_layer(stream: BinaryIO, index: int, compression: str | None = None) -> LayerScan:
    """Read a layer tar (compressed or not) once and return what it holds.

    For layers with no stored index (an image given as a file); the stream is
    read to its end, so a verifying reader (the store's) checks the blob's digest.
    """
    from lamina.layers.tarindex import index_stream  # only layers with no stored index

    return scan_from_index(index_stream(stream, compression, what=f"layer {index}"), index)
