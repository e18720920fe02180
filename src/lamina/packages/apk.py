"""Alpine's installed database, /lib/apk/db/installed (apk-tools' "apkv2 index" format).

One block per package, blocks separated by a blank line, each line ``X:value``
where P is the name, V the version, A the architecture, o the origin (source)
package and L the license; each F names a directory and the R lines after it
the files the package installed there.
"""

from __future__ import annotations

from lamina.packages import stanzas
from lamina.packages.model import APK, Package


def parse(data: bytes, path: str) -> tuple[list[Package], list[str]]:
    packages: list[Package] = []
    problems: list[str] = []
    for lines in stanzas.blocks(data.decode("utf-8", "replace")):
        block: dict[str, str] = {}
        files: set[str] = set()
        directory = ""
        for line in lines:
            key, sep, value = line.partition(":")
            if not sep or len(key) != 1:
                continue
            if key == "F":
                directory = value
            elif key == "R":
                files.add(f"/{directory}/{value}" if directory else f"/{value}")
            elif key not in block:
                block[key] = value
        name, version = block.get("P", ""), block.get("V", "")
        if not (name and version):
            problems.append(f"{path}: a package block without P: or V: is skipped")
            continue
        origin = block.get("o", "")
        packages.append(Package(
            type=APK, name=name, version=version, path=path, arch=block.get("A", ""),
            source_name=origin if origin != name else "",
            licenses=(block["L"],) if block.get("L") else (),
            files=frozenset(files), records=frozenset({path}),
        ))
    return packages, problems
