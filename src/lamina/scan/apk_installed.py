"""Alpine's installed database, /lib/apk/db/installed (apk-tools' "apkv2 index" format).

One block per package, blocks separated by a blank line, each line ``X:value``
where P is the name, V the version, A the architecture, o the origin (source)
package and L the license.
"""

from __future__ import annotations

from lamina.scan.package import APK, Package


def parse(data: bytes, path: str) -> tuple[list[Package], list[str]]:
    packages: list[Package] = []
    problems: list[str] = []
    block: dict[str, str] = {}
    lines = data.decode("utf-8", "replace").splitlines()
    for line in [*lines, ""]:
        if not line.strip():
            if block:
                name, version = block.get("P", ""), block.get("V", "")
                if name and version:
                    origin = block.get("o", "")
                    packages.append(Package(
                        type=APK, name=name, version=version, path=path, arch=block.get("A", ""),
                        source_name=origin if origin != name else "",
                        licenses=(block["L"],) if block.get("L") else (),
                    ))
                else:
                    problems.append(f"{path}: a package block without P: or V: is skipped")
            block = {}
            continue
        key, sep, value = line.partition(":")
        if sep and len(key) == 1 and key not in block:
            block[key] = value
    return packages, problems
