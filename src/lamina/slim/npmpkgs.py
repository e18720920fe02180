"""npm packages installed in ``node_modules``: each package dir with its package.json.

A package owns its directory except the ``node_modules`` nested in it, which
hold packages of their own.
"""

from __future__ import annotations

import json

from lamina.slim.imagetree import ImageTree, parent
from lamina.slim.package import NPM, Package


def read(tree: ImageTree) -> list[Package]:
    packages: dict[str, Package] = {}
    for path, entry in tree.entries.items():
        if entry.kind != "file" or not path.endswith("/package.json"):
            continue
        pkg_dir = parent(path)
        holder = parent(pkg_dir)
        if holder.rsplit("/", 1)[-1].startswith("@"):
            holder = parent(holder)
        if not holder.endswith("/node_modules"):
            continue
        try:
            doc = json.loads(tree.host(path).read_bytes())
        except (ValueError, OSError):
            continue
        if not isinstance(doc, dict) or not isinstance(doc.get("name"), str):
            continue
        packages[pkg_dir] = Package(NPM, doc["name"], str(doc.get("version", "")),
                                    records={path})
    for pkg_dir, pkg in packages.items():
        prefix = pkg_dir + "/"
        for path in tree.under(pkg_dir):
            rest = path[len(prefix):]
            if "node_modules/" in rest or rest == "node_modules":
                continue
            pkg.files.add(path)
        pkg.files.add(pkg_dir)
    return list(packages.values())
