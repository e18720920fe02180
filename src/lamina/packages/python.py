"""Installed Python distributions: ``*.dist-info/METADATA`` and ``*.egg-info/PKG-INFO``.

Both use the Core Metadata format (PyPA "Core metadata specifications"): an
email-style header where Name and Version identify the distribution. An
``.egg-info`` may also be a single file holding the same header.
"""

from __future__ import annotations

import csv
import io
import posixpath

from lamina.packages.model import PYTHON, Package


def parse(data: bytes, path: str) -> tuple[list[Package], list[str]]:
    name = version = license_ = ""
    for line in data.decode("utf-8", "replace").splitlines():
        if not line.strip():
            break  # the body (long description) follows the first blank line
        key, sep, value = line.partition(":")
        if not sep or line[0] in " \t":
            continue
        key = key.strip().lower()
        if key == "name" and not name:
            name = value.strip()
        elif key == "version" and not version:
            version = value.strip()
        elif key == "license" and not license_:
            license_ = value.strip()
    if not name or not version:
        return [], [f"{path}: Python metadata without Name or Version is skipped"]
    licenses = (license_,) if license_ and license_.upper() != "UNKNOWN" and "\n" not in license_ else ()
    return [Package(type=PYTHON, name=name, version=version, path=path, licenses=licenses)], []


def record_paths(text: str) -> list[str]:
    """The paths a ``RECORD`` lists (PEP 376/627: CSV rows of path, hash, size), relative to
    the site dir the distribution is installed in."""
    return [row[0] for row in csv.reader(io.StringIO(text)) if row and row[0]]


def installed_files(dist_info: str, record: bytes) -> tuple[str, ...]:
    """The absolute paths a ``NAME.dist-info/RECORD`` at ``dist_info`` says were installed."""
    site = posixpath.dirname(dist_info.rstrip("/"))
    return tuple(posixpath.normpath(posixpath.join(site, rel))
                 for rel in record_paths(record.decode("utf-8", "replace")))
