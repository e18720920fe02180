"""dpkg's database: /var/lib/dpkg/status and distroless /var/lib/dpkg/status.d/*.

Both are deb822 paragraphs (Debian Policy 5.1). A ``Source:`` field names the
source package, optionally with its version in parentheses when it differs
from the binary's (binNMUs: ``Source: glibc (2.36-9)``). Entries whose state is
``not-installed`` or ``config-files`` have no files on disk and are left out.
"""

from __future__ import annotations

import re

from lamina.packages import stanzas
from lamina.packages.model import DEB, Package

_SOURCE = re.compile(r"^(?P<name>[^\s(]+)(?:\s*\((?P<version>[^)]+)\))?\s*$")
GONE = frozenset({"not-installed", "config-files"})


def fields(block: list[str]) -> dict[str, str]:
    """One paragraph's fields; continuation lines join their field with newlines."""
    out: dict[str, str] = {}
    last = ""
    for line in block:
        if line[0] in " \t":
            if last:
                out[last] += "\n" + line.strip()
            continue
        name, sep, value = line.partition(":")
        if not sep:
            continue
        last = name.strip()
        out[last] = value.strip()
    return out


def paragraphs(text: str) -> list[dict[str, str]]:
    return [fields(block) for block in stanzas.blocks(text)]


def parse(data: bytes, path: str) -> tuple[list[Package], list[str]]:
    packages: list[Package] = []
    problems: list[str] = []
    text = data.decode("utf-8", "replace")
    for fields in paragraphs(text):
        name, version = fields.get("Package", ""), fields.get("Version", "")
        if not name or not version:
            problems.append(f"{path}: a paragraph without Package or Version is skipped"
                            f" ({name or 'unnamed'})")
            continue
        status = fields.get("Status", "install ok installed").split()
        if status and status[-1] in GONE:
            continue
        source_name = source_version = ""
        if "Source" in fields:
            match = _SOURCE.match(fields["Source"])
            if match is None:
                problems.append(f"{path}: package {name}: unreadable Source field {fields['Source']!r}")
            else:
                source_name = match["name"]
                source_version = match["version"] or ""
        packages.append(Package(
            type=DEB, name=name, version=version, path=path,
            arch=fields.get("Architecture", ""),
            source_name=source_name if source_name != name else "",
            source_version=source_version if source_version != version else "",
        ))
    return packages, problems
