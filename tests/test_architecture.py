"""The import graph keeps the shape docs/ARCHITECTURE.md draws: arrows point down, no circles.

Every ``import`` and ``from ... import`` under src/lamina is read with the ast module
(imports under ``if TYPE_CHECKING:`` and inside functions count too: they tie the
modules together just the same). Two rules:

- Layering: a top-level package imports only packages on a lower layer, or a package
  on its own layer along an edge listed in SIDEWAYS.
- No circles: within every package, its child modules and subpackages import each
  other without a cycle (so no circle between packages at any depth).

Known breaches are listed in TOLERATED_UPWARD and TOLERATED_CYCLES with the reason;
the lists may only shrink: an entry that no longer occurs fails the test, so whoever
removes a breach also removes its entry.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from functools import cache
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
ROOT = "lamina"

# Highest first. "" is the root module, lamina/__init__.py (the version).
LAYERS: list[tuple[str, ...]] = [
    ("cli",),
    ("build", "containers", "analyze", "slim", "lint", "scan", "registry"),  # features
    ("client",),  # writes what it pulls into the store
    ("store", "runtime"),
    ("layers", "dockerfile", "packages"),  # packages: the package databases' formats
    ("oci",),
    ("config",),
    ("errors", ""),
]

# Imports between packages on the same layer that are part of the design.
SIDEWAYS: dict[tuple[str, str], str] = {
    ("analyze", "scan"): "the package listing of an image comes from the scanner's inventory",
    ("containers", "build"): "`lamina run` mounts an image the way a build step does",
    ("build", "lint"): "BuildKit's build checks (# check=, --check) are Lamina's lint rules",
    ("lint", "analyze"): "`lint --image` reads the image through analyze",
    ("slim", "scan"): "slim reports the advisories its kept packages still carry",
    ("registry", "scan"): "registry/server.py passes the advisory scanner to the HTTP app",
}

# Upward or unlisted sideways imports still in the code: (importer, imported) -> why.
TOLERATED_UPWARD: dict[tuple[str, str], str] = {}

# Cycles still in the code: the sorted units of one strongly connected part -> why.
TOLERATED_CYCLES: dict[tuple[str, ...], str] = {}


def _module_names() -> dict[str, Path]:
    names = {}
    for path in sorted((SRC / ROOT).rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


MODULES = _module_names()


def _is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def _imported(module: str) -> Iterator[str]:
    """The lamina modules ``module`` imports, each named exactly."""
    path = MODULES[module]
    package = module if _is_package(module) else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield from _existing(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            for alias in node.names:
                # `from pkg import name` imports the submodule when there is one.
                sub = f"{target}.{alias.name}"
                yield from _existing(sub if sub in MODULES else target)


def _existing(name: str) -> Iterator[str]:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    if name.split(".")[0] == ROOT:
        yield name


@cache
def _edges() -> dict[str, frozenset[str]]:
    return {module: frozenset(_imported(module)) for module in MODULES}


def _top(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _layer(package: str) -> int:
    for depth, packages in enumerate(LAYERS):
        if package in packages:
            return depth
    raise AssertionError(f"lamina.{package} is on no layer: add it to LAYERS")


def _package_edges() -> dict[tuple[str, str], list[str]]:
    """(importer, imported) top-level packages -> the module imports that make the edge."""
    found: dict[tuple[str, str], list[str]] = defaultdict(list)
    for module, targets in _edges().items():
        for target in targets:
            if _top(module) != _top(target):
                found[_top(module), _top(target)].append(f"{module} -> {target}")
    return found


def test_every_package_is_on_a_layer() -> None:
    for module in MODULES:
        _layer(_top(module))


def test_arrows_point_down() -> None:
    breaches = []
    for (src, dst), imports in sorted(_package_edges().items()):
        if _layer(dst) > _layer(src) or (src, dst) in SIDEWAYS:
            continue
        if (src, dst) not in TOLERATED_UPWARD:
            breaches.append(f"lamina.{src} imports lamina.{dst}: " + "; ".join(sorted(imports)))
    assert not breaches, "imports against the layering (docs/ARCHITECTURE.md):\n" + \
        "\n".join(breaches)


def test_tolerated_upward_imports_still_exist() -> None:
    gone = set(TOLERATED_UPWARD) - set(_package_edges())
    assert not gone, f"no longer imported, remove from TOLERATED_UPWARD: {sorted(gone)}"


def _unit(parent: str, module: str) -> str | None:
    """The child of package ``parent`` that holds ``module`` (``__init__`` for the package)."""
    if module == parent:
        return "__init__"
    if not module.startswith(parent + "."):
        return None
    return module[len(parent) + 1:].split(".")[0]


def _cycles() -> set[tuple[str, ...]]:
    """Every strongly connected set of sibling units, in every package."""
    found = set()
    for parent in (name for name in MODULES if _is_package(name)):
        graph: dict[str, set[str]] = defaultdict(set)
        for module, targets in _edges().items():
            src = _unit(parent, module)
            if src is None:
                continue
            for target in targets:
                dst = _unit(parent, target)
                if dst is not None and dst != src:
                    graph[src].add(dst)
        prefix = parent.removeprefix(ROOT).lstrip(".")
        for part in _strongly_connected(graph):
            found.add(tuple(sorted(f"{prefix}.{u}" if prefix else u for u in part)))
    return found


def _strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm; only the parts with more than one member."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    parts: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            part = set()
            while True:
                member = stack.pop()
                part.add(member)
                if member == node:
                    break
            if len(part) > 1:
                parts.append(part)

    for node in list(graph):
        if node not in index:
            visit(node)
    return parts


def test_no_package_cycles() -> None:
    new = _cycles() - set(TOLERATED_CYCLES)
    assert not new, "import cycles between sibling packages or modules:\n" + \
        "\n".join(" <-> ".join(cycle) for cycle in sorted(new))


def test_tolerated_cycles_still_exist() -> None:
    gone = set(TOLERATED_CYCLES) - _cycles()
    assert not gone, f"broken cycles, remove from TOLERATED_CYCLES: {sorted(gone)}"


def test_the_checker_sees_an_upward_import_and_a_cycle() -> None:
    """The rules above are only as good as the graph: check it on known edges."""
    edges = _edges()
    assert "lamina.oci.digest" in edges["lamina.layers.digest_stream"]
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _strongly_connected(graph) == [{"a", "b", "c"}]
    assert _layer("cli") < _layer("oci")


def test_only_the_server_wires_the_scanner_into_the_registry() -> None:
    """Issue 13: the registry takes its scanner as an argument; one module builds it."""
    wiring = sorted(module for module, targets in _edges().items()
                    if _top(module) == "registry" and any(_top(t) == "scan" for t in targets))
    assert wiring == ["lamina.registry.server"]


def test_the_registry_is_not_changed_after_it_is_built() -> None:
    """Issue 13: registry/server.py passes storage, metadata, authorizer and policy in;
    no module sets them on a Registry afterwards."""
    parts = {"blobs", "meta", "authorizer", "policy", "events", "uploads"}
    late = []
    for module in MODULES:
        if not module.startswith("lamina.registry"):
            continue
        for node in ast.walk(ast.parse(MODULES[module].read_text())):
            targets = node.targets if isinstance(node, ast.Assign) else \
                [node.target] if isinstance(node, ast.AnnAssign | ast.AugAssign) else []
            late += [f"{module}:{node.lineno} sets .{t.attr}" for t in targets
                     if isinstance(t, ast.Attribute) and t.attr in parts
                     and not (isinstance(t.value, ast.Name) and t.value.id == "self")]
    assert not late, late


# The store's public face (issue 13: a narrow store): what modules outside lamina.store may
# import. Its blobs, index file and ingest are reached through Store's methods
# (Store.layer_writer for a new layer, store.mutate for a new image), never directly,
# so the rule that writers hold the store's writing lock is kept in one place.
STORE_PUBLIC: frozenset[str] = frozenset({
    "store.store", "store.image", "store.mutate", "store.layer_index", "store.extracted",
    "store.history", "store.load", "store.docker_archive", "store.oci_layout",
    "store.archive_image", "store.archive_stream", "store.bundle",
    "store.store_image", "store.layout_image",  # Image adapters (store/image.py)
    "store.accounting",
    "store.refs",  # tags and images without opening the Store (a build replay)
    "store.json_document",  # small files features keep beside the store (the build cache)
})

# Imports of the store's private modules still in the code: (importer, imported) -> why.
TOLERATED_STORE_INTERNALS: dict[tuple[str, str], str] = {}


def _store_internals() -> set[tuple[str, str]]:
    found = set()
    for module, targets in _edges().items():
        if _top(module) == "store":
            continue
        for target in targets:
            name = target.removeprefix(ROOT + ".")
            if _top(target) == "store" and name != "store" and name not in STORE_PUBLIC:
                found.add((module.removeprefix(ROOT + "."), name))
    return found


def test_only_the_store_reaches_its_internals() -> None:
    """Issue 13: features never touch the store's blobs, index or ingest directly."""
    new = _store_internals() - set(TOLERATED_STORE_INTERNALS)
    assert not new, "imports of the store's private modules (use Store's methods, or add" \
        " the module to STORE_PUBLIC if it is meant to be public):\n" + \
        "\n".join(f"lamina.{a} imports lamina.{b}" for a, b in sorted(new))
    gone = set(TOLERATED_STORE_INTERNALS) - _store_internals()
    assert not gone, f"no longer imported, remove from TOLERATED_STORE_INTERNALS: {sorted(gone)}"
    assert {f"store.{name}" for name in ("blobs", "index", "ingest")}.isdisjoint(STORE_PUBLIC)


# Modules outside lamina.store that still reach into a Store's blob files or index file
# (``store.blobs``, ``store.meta``) instead of its methods, mutate.py or an Image adapter
# (store/store_image.py): module -> why. May only shrink.
TOLERATED_STORE_ATTRIBUTES: dict[str, str] = {}


def _store_attribute_uses() -> dict[str, list[str]]:
    """module -> ``line: receiver.blobs|meta`` where the receiver is named as a store."""
    found: dict[str, list[str]] = defaultdict(list)
    for module, path in MODULES.items():
        if _top(module) in ("store", "registry"):  # the registry's blobs/meta are its own
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Attribute) and node.attr in ("blobs", "meta")):
                continue
            owner = node.value
            name = owner.id if isinstance(owner, ast.Name) else \
                owner.attr if isinstance(owner, ast.Attribute) else ""
            if name.endswith("store") or name == "scratch":
                found[module.removeprefix(ROOT + ".")].append(f"{node.lineno}: {name}.{node.attr}")
    return found


def _only_tolerated(uses: dict[str, list[str]], tolerated: dict[str, str], advice: str,
                    listed_in: str) -> None:
    """No module beyond the tolerated ones, and every tolerated one still at it."""
    new = {m: lines for m, lines in uses.items() if m not in tolerated}
    assert not new, f"{advice}:\n" + \
        "\n".join(f"lamina.{m}: {', '.join(lines)}" for m, lines in sorted(new.items()))
    gone = set(tolerated) - set(uses)
    assert not gone, f"no longer reaching in, remove from {listed_in}: {sorted(gone)}"


def test_features_use_the_stores_methods_not_its_files() -> None:
    """Issue 13: a narrow store; its blobs and index are reached through its methods."""
    _only_tolerated(_store_attribute_uses(), TOLERATED_STORE_ATTRIBUTES,
                    "use Store's methods, store.mutate or StoreImage instead",
                    "TOLERATED_STORE_ATTRIBUTES")


# Modules outside lamina.store that still compose paths under a Store's folder (``.home``)
# instead of asking it by name (store/folder.py: scratch_root, scratch_dir, state_file,
# state_dir, location): module -> why. May only shrink.
TOLERATED_STORE_HOME: dict[str, str] = {}


def _store_homes(tree: ast.AST) -> list[str]:
    """``line: receiver.home`` where the receiver is a store (named so, or ``open_store()``);
    ``Settings.home`` (LAMINA_HOME itself) is not a Store's."""
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Attribute) and node.attr == "home"):
            continue
        owner = node.value.func if isinstance(node.value, ast.Call) else node.value
        name = owner.id if isinstance(owner, ast.Name) else \
            owner.attr if isinstance(owner, ast.Attribute) else ""
        if name.endswith("store") or name == "scratch":
            found.append(f"{node.lineno}: {name}.home")
    return found


def _store_home_uses() -> dict[str, list[str]]:
    return {module.removeprefix(ROOT + "."): lines for module, path in MODULES.items()
            if _top(module) != "store" and (lines := _store_homes(ast.parse(path.read_text())))}


def test_features_ask_the_store_for_their_places_not_its_folder() -> None:
    """Issue 13: a narrow store; scratch space and features' state files are named by
    the Store, so the layout of its folder stays its own."""
    _only_tolerated(_store_home_uses(), TOLERATED_STORE_HOME,
                    "use Store.scratch_root/scratch_dir/state_file/state_dir/location",
                    "TOLERATED_STORE_HOME")


def test_the_home_rule_sees_a_stores_folder() -> None:
    """The rule above reads receivers by name: check it on uses it must and must not catch."""
    code = "a = store.home\nb = self._store.home\nc = open_store().home\n" \
           "d = settings.home\ne = Settings.load().home\nf = Path.home()\n"
    assert _store_homes(ast.parse(code)) == ["1: store.home", "2: _store.home",
                                             "3: open_store.home"]


# Modules still over the 400-line limit -> why; may only shrink.
TOLERATED_LONG: dict[str, str] = {
}


def test_modules_stay_under_400_lines() -> None:
    """The house rule: one concept per module, under 400 lines."""
    long = {m for m, path in MODULES.items() if len(path.read_text().splitlines()) > 400}
    assert not long - set(TOLERATED_LONG), f"over 400 lines: {sorted(long - set(TOLERATED_LONG))}"
    assert not set(TOLERATED_LONG) - long, \
        f"now under 400 lines, remove from TOLERATED_LONG: {sorted(set(TOLERATED_LONG) - long)}"
