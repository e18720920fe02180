"""Package databases told from their paths (the rules ``lamina diff`` checks a layer's
files against before it reads any package list)."""

from __future__ import annotations

import pytest

from lamina.packages import apk, dpkg, npm, python
from lamina.packages.databases import any_database, database_kind
from lamina.scan.inventory import parser_for


@pytest.mark.parametrize(("path", "kind"), [
    ("var/lib/dpkg/status", "dpkg"),
    ("var/lib/dpkg/status.d/base-files", "dpkg"),
    ("var/lib/dpkg/status.d/base-files.md5sums", None),  # distroless: checksums, no record
    ("lib/apk/db/installed", "apk"),
    ("usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA", "python"),
    ("usr/lib/python3/dist-packages/six-1.16.0.egg-info", "python"),
    ("usr/lib/python3/dist-packages/six-1.16.0.egg-info/PKG-INFO", "python"),
    ("usr/share/doc/METADATA", None),  # METADATA only inside a .dist-info directory
    ("srv/app/PKG-INFO", None),
    ("srv/app/node_modules/left-pad/package.json", "npm-manifest"),
    ("srv/app/package-lock.json", "npm-lock"),
    ("etc/dpkg/status", None),
    ("usr/bin/python3", None),
])
def test_database_kind(path: str, kind: str | None) -> None:
    assert database_kind(path) == kind
    assert any_database(["usr/bin/sh", path]) == (kind is not None)  # diff's quick test


def test_the_scanner_reads_each_kind_with_its_parser() -> None:
    parsers = {"dpkg": dpkg.parse, "apk": apk.parse, "python": python.parse,
               "npm-manifest": npm.parse_manifest, "npm-lock": npm.parse_lock}
    for path, kind in (("var/lib/dpkg/status", "dpkg"), ("lib/apk/db/installed", "apk"),
                       ("a/x.dist-info/METADATA", "python"), ("package.json", "npm-manifest"),
                       ("package-lock.json", "npm-lock")):
        assert parser_for(path) is parsers[kind]
    assert parser_for("usr/bin/python3") is None
