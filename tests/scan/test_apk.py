"""Alpine: apk's installed database written in its real format, inventoried and matched."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tests.scan.images import build_and_save
from tests.tools import lamina, require_tool, run

# /lib/apk/db/installed as apk-tools writes it (one block per package, blank-line separated)
INSTALLED = """\
C:Q1bTGcWkuA5MvwvUp5dixnbsmjnvE=
P:musl
V:1.2.4-r2
A:x86_64
S:383152
I:622592
T:the musl c library (libc) implementation
U:https://musl.libc.org/
L:MIT
o:musl
m:Timo Teräs <timo.teras@iki.fi>
t:1696342785
c:b9c0ea5a8f3b4a0e3ee81b0c5b4ad4fcb1ba0bca
p:so:libc.musl-x86_64.so.1=1
F:lib
R:ld-musl-x86_64.so.1
a:0:0:755
Z:Q1tpy+GS6ImqZZfbE38v9hrzRX8sU=

C:Q1yQ7mWNlR1wSm6mKR0LwQpeEbDlU=
P:libcrypto3
V:3.1.4-r1
A:x86_64
S:1710279
I:4407296
T:Crypto library from openssl
U:https://www.openssl.org/
L:Apache-2.0
o:openssl
m:Ariadne Conill <ariadne@dereferenced.org>
t:1698241212
c:2ba3b5a6b6a2a6fe8cd4a7ee6a7cd46c6cc2b6cc
D:so:libc.musl-x86_64.so.1
p:so:libcrypto.so.3=3
F:lib
R:libcrypto.so.3
a:0:0:755
Z:Q1nTmLkJrfe3KVu0VjsbBJfRrTqbM=

C:Q1dPLxyK8ZHWiFpdD1wUOFsZPrhbI=
P:busybox
V:1.36.1-r5
A:x86_64
S:517810
I:958464
T:Size optimized toolbox of many common UNIX utilities
U:https://busybox.net/
L:GPL-2.0-only
o:busybox
m:Sören Tempel <soeren+alpine@soeren-tempel.net>
t:1698239937
c:ab4b3b3ea5e3bd0d1e3d5fd6d0a3d4a0f3d3bd4e
F:bin
R:busybox
a:0:0:755
Z:Q1WUwBY0eZGOt5eX5lLqDHbXJtXDs=
"""
OS_RELEASE = """NAME="Alpine Linux"
ID=alpine
VERSION_ID=3.18.4
PRETTY_NAME="Alpine Linux v3.18"
HOME_URL="https://alpinelinux.org/"
"""


def _advisories(root: Path) -> Path:
    d = root / "alpine-osv"
    d.mkdir()
    records = [
        {"id": "ALPINE-TEST-1", "modified": "2024-01-01T00:00:00Z", "aliases": ["CVE-2099-1111"],
         "affected": [{"package": {"ecosystem": "Alpine:v3.18", "name": "openssl"},
                       "ranges": [{"type": "ECOSYSTEM",
                                   "events": [{"introduced": "0"}, {"fixed": "3.1.4-r3"}]}]}]},
        {"id": "ALPINE-TEST-2", "modified": "2024-01-01T00:00:00Z",
         "affected": [{"package": {"ecosystem": "Alpine:v3.17", "name": "openssl"},
                       "ranges": [{"type": "ECOSYSTEM",
                                   "events": [{"introduced": "0"}, {"fixed": "9.0.0-r0"}]}]}]},
        {"id": "ALPINE-TEST-3", "modified": "2024-01-01T00:00:00Z",
         "affected": [{"package": {"ecosystem": "Alpine:v3.18", "name": "musl"},
                       "ranges": [{"type": "ECOSYSTEM",
                                   "events": [{"introduced": "0"}, {"fixed": "1.2.4_rc1-r0"}]}]}]},
    ]
    for record in records:
        (d / f"{record['id']}.json").write_text(json.dumps(record))
    return d


def test_apk_inventory_and_matching(docker: str, busybox_image: str, tmp_path: Path) -> None:
    """apk db: name, version, arch, origin; purl pkg:apk/alpine; Alpine:v3.18 records only."""
    image = build_and_save(docker, busybox_image, "lamina-test/scan-apk:1",
                           {"lib/apk/db/installed": INSTALLED, "etc/os-release": OS_RELEASE},
                           tmp_path / "ctx")
    doc = json.loads(lamina("sbom", image, "--format", "json").stdout)
    apk = {p["name"]: p for p in doc["packages"] if p["type"] == "apk"}
    assert {n: p["version"] for n, p in apk.items()} == {
        "musl": "1.2.4-r2", "libcrypto3": "3.1.4-r1", "busybox": "1.36.1-r5"}
    assert apk["libcrypto3"]["sourceName"] == "openssl"
    assert apk["libcrypto3"]["purl"] == (
        "pkg:apk/alpine/libcrypto3@3.1.4-r1?arch=x86_64&distro=alpine-3.18.4&upstream=openssl")
    db = tmp_path / "db.sqlite"
    lamina("db", "import", _advisories(tmp_path), "--db", db)
    found = json.loads(lamina("scan", image, "--db", db, "--format", "json").stdout)["findings"]
    assert [(f["id"], f["package"]["name"], f["fixedVersions"]) for f in found] == [
        ("CVE-2099-1111", "libcrypto3", ["3.1.4-r3"])]

    beside = Path(sys.executable).parent / "syft"
    syft = str(beside) if beside.exists() else require_tool("syft")
    theirs = json.loads(run([syft, f"docker-archive:{image}", "-o", "json", "-q"]).stdout)
    syft_apk = {a["name"]: a["version"] for a in theirs["artifacts"] if a["type"] == "apk"}
    assert syft_apk and all(apk[n]["version"] == v for n, v in syft_apk.items())
