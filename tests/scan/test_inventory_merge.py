"""The merge of layers, in process on layer tars the test writes (image-spec layer.md,
"Whiteouts" and "Changesets"): last writer wins, whiteouts and opaque markers remove
lower entries, hard links share a file's bytes, shared databases keep attribution."""

from __future__ import annotations

import io
from collections.abc import Sequence

from lamina.oci import mediatype
from lamina.oci.config import ImageConfig
from lamina.oci.descriptor import Descriptor
from lamina.oci.digest import Digest
from lamina.scan.inventory import Inventory, inventory_of
from tests.layers.tarbuild import build, directory, file, hardlink

Member = tuple[str, bytes | None, str]  # path, content (None: directory), hard link target


def _layer(members: Sequence[Member]) -> bytes:
    return build(*(hardlink(path, link) if link else directory(path) if content is None
                   else file(path, content) for path, content, link in members))


def _inventory(*layers: Sequence[Member]) -> Inventory:
    blobs = {Digest.of(data): data for data in map(_layer, layers)}
    descriptors = [Descriptor(mediatype.OCI_LAYER, d, len(b)) for d, b in blobs.items()]
    config = ImageConfig.from_doc({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [str(d) for d in blobs]},
        "history": [{"created_by": f"/bin/sh -c step {i}"} for i in range(len(layers))],
    })
    return inventory_of(config, descriptors, lambda d: io.BytesIO(blobs[d]))


def _meta(name: str, version: str) -> bytes:
    return f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n".encode()


def _status(*pkgs: tuple[str, str]) -> bytes:
    return "".join(f"Package: {n}\nStatus: install ok installed\nVersion: {v}\n"
                   f"Architecture: amd64\n\n" for n, v in pkgs).encode()


SITE = "usr/lib/python3/dist-packages"


def test_last_writer_wins_and_whiteouts_remove() -> None:
    inv = _inventory(
        [(f"{SITE}/a-1.0.dist-info/METADATA", _meta("a", "1.0"), ""),
         (f"{SITE}/b-1.0.dist-info/METADATA", _meta("b", "1.0"), ""),
         ("opt/app/node_modules/x/package.json", b'{"name":"x","version":"1.0.0"}', "")],
        [(f"{SITE}/a-1.0.dist-info/METADATA", _meta("a", "1.0.post1"), ""),
         (f"{SITE}/.wh.b-1.0.dist-info", b"", ""),
         ("opt/app/.wh..wh..opq", b"", ""),
         ("opt/app/node_modules/y/package.json", b'{"name":"y","version":"2.0.0"}', "")],
    )
    found = {(p.name, p.version, p.layer) for p in inv.packages}
    assert found == {("a", "1.0.post1", 1), ("y", "2.0.0", 1)}
    assert inv.layers[1].created_by == "RUN step 1"


def test_hard_links_share_the_bytes_of_an_earlier_member() -> None:
    original = f"{SITE}/a-1.0.dist-info/METADATA"
    inv = _inventory([(original, _meta("a", "1.0"), ""),
                      ("usr/local/lib/site/a-1.0.dist-info/METADATA", b"", original)])
    paths = sorted(p.path for p in inv.packages)
    assert paths == [f"/{SITE}/a-1.0.dist-info/METADATA",
                     "/usr/local/lib/site/a-1.0.dist-info/METADATA"]


def test_dpkg_status_keeps_the_layer_a_package_first_appeared_in() -> None:
    """dpkg rewrites its status file whole; an unchanged package stays with its first layer."""
    inv = _inventory(
        [("var/lib/dpkg/status", _status(("libc6", "2.36-9"), ("zlib1g", "1:1.2.13")), "")],
        [("var/lib/dpkg/status", _status(("libc6", "2.36-9"), ("zlib1g", "1:1.3"),
                                         ("curl", "7.88")), "")],
    )
    assert {(p.name, p.version, p.layer) for p in inv.packages} == {
        ("libc6", "2.36-9", 0), ("zlib1g", "1:1.3", 1), ("curl", "7.88", 1)}


def test_a_corrupt_layer_is_reported_and_the_others_still_count() -> None:
    good = _layer([(f"{SITE}/a-1.0.dist-info/METADATA", _meta("a", "1.0"), "")])
    bad = b"this is not a tar archive at all" * 20
    blobs = {Digest.of(good): good, Digest.of(bad): bad}
    config = ImageConfig.from_doc({"architecture": "amd64", "os": "linux",
                                   "rootfs": {"type": "layers",
                                              "diff_ids": [str(d) for d in blobs]}})
    inv = inventory_of(config, [Descriptor(mediatype.OCI_LAYER, d, len(b)) for d, b in blobs.items()],
                       lambda d: io.BytesIO(blobs[d]))
    assert [p.name for p in inv.packages] == ["a"]
    assert any("layer 1" in problem for problem in inv.problems)


def test_packages_own_their_files_and_a_later_list_replaces_the_earlier() -> None:
    """dpkg's info/NAME[:ARCH].list, distroless status.d/NAME.md5sums, apk's F/R lines and a
    dist-info's RECORD."""
    inv = _inventory(
        [("var/lib/dpkg/status", _status(("bash", "5.2.15-2"), ("libc6", "2.36-9")), ""),
         ("var/lib/dpkg/info/bash.list", b"/.\n/bin\n/bin/bash\n/usr/share/doc/bash\n", ""),
         ("var/lib/dpkg/info/libc6:amd64.list", b"/.\n/lib/x86_64-linux-gnu/libc.so.6\n", "")],
        # an upgrade rewrites bash's list: the files are the new list's
        [("var/lib/dpkg/info/bash.list", b"/.\n/bin/bash\n/bin/rbash\n", ""),
         ("var/lib/dpkg/status.d/tzdata", b"Package: tzdata\nVersion: 2024a-0\n", ""),
         ("var/lib/dpkg/status.d/tzdata.md5sums",
          b"0123456789abcdef0123456789abcdef  usr/share/zoneinfo/UTC\n", ""),
         ("lib/apk/db/installed", b"P:musl\nV:1.2.4-r2\nF:lib\nR:ld-musl-x86_64.so.1\n"
                                  b"R:libc.musl-x86_64.so.1\n\n", ""),
         (f"{SITE}/six-1.16.0.dist-info/METADATA", _meta("six", "1.16.0"), ""),
         (f"{SITE}/six-1.16.0.dist-info/RECORD",
          b"six.py,sha256=abc,34549\nsix-1.16.0.dist-info/METADATA,,\n"
          b"../../../bin/six-tool,,\n", "")])
    files = {p.name: p.files for p in inv.packages}
    assert files["bash"] == {"/bin/bash", "/bin/rbash"}
    assert files["libc6"] == {"/lib/x86_64-linux-gnu/libc.so.6"}
    assert files["tzdata"] == {"/usr/share/zoneinfo/UTC"}
    assert files["musl"] == {"/lib/ld-musl-x86_64.so.1", "/lib/libc.musl-x86_64.so.1"}
    # RECORD paths are relative to the site dir (PEP 376), which may lead outside it
    assert files["six"] == {f"/{SITE}/six.py", f"/{SITE}/six-1.16.0.dist-info/METADATA",
                            "/usr/bin/six-tool"}
