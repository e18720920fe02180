"""npm packages installed in ``node_modules``: each package dir with its package.json.

A package owns its directory except the ``node_modules`` nested in it, which
hold packages of their own.
"""

from __future__ import annotations

import json

from lamina.packages.model import NPM, Package
from lamina.slim.imagetree import ImageTree, parent


def read(tree: ImageTree) -> list[Package]:
    found: dict[str, tuple[str, str, str]] = {}
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
        found[pkg_dir] = (doc["name"], str(doc.get("version", "")), path)
    packages = []
    for pkg_dir, (name, version, manifest) in found.items():
        prefix = pkg_dir + "/"
        files = {pkg_dir} | {path for path in tree.under(pkg_dir)
                             if not ("node_modules/" in path[len(prefix):]
                                     or path[len(prefix):] == "node_modules")}
        packages.append(Package(NPM, name, version, manifest, files=frozenset(files),
                                records=frozenset({manifest})))
    return packages
