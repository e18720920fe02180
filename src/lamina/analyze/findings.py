"""Problems worth fixing, each with the bytes at stake, the layer and step that made it, a fix.

Rules (ids are stable; they appear in JSON):
- leftovers: ``apt-lists``, ``apt-cache``, ``apk-cache``, ``yum-cache``, ``dnf-cache``,
  ``pip-cache``, ``npm-cache``, ``pycache`` -- package-manager caches a layer ships.
- ``build-tools``: compilers, make, headers and ``-dev`` packages in the final image.
- ``heavy-base``: a full distribution base where a slim one exists (named from os-release).
- ``small-layers``: many tiny layers above the base.
- ``secret-deleted``: a private key or ``.env`` a later layer deletes, still in an earlier one.
- ``secret``: a private key or ``.env`` in the final image.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Final

from lamina.analyze.analysis import Analysis
from lamina.analyze.layerscan import SECRET_PRIVATE_KEY, LayerFile
from lamina.layers.tarstream import FILE

MIB: Final = 1 << 20
SMALL_LAYER_BYTES: Final = 1 * MIB
SMALL_LAYER_LIMIT: Final = 5
_SAMPLE: Final = 10


@dataclass(frozen=True)
class Finding:
    rule: str
    category: str  # leftover, build-tools, base, layers, secret
    severity: str  # high, medium, low, info
    title: str
    bytes: int
    fix: str
    layer: int | None
    step: str  # the history entry (Dockerfile step) that made the layer
    paths: tuple[str, ...] = field(default=())
    detail: str = ""


@dataclass(frozen=True)
class _Leftover:
    rule: str
    title: str
    pattern: re.Pattern[str]
    fix: str
    severity: str = "medium"


_LEFTOVERS: Final = (
    _Leftover("apt-lists", "apt package lists", re.compile(r"^var/lib/apt/lists/"),
              "run `apt-get update && apt-get install -y --no-install-recommends ..."
              " && rm -rf /var/lib/apt/lists/*` in one RUN"),
    _Leftover("apt-cache", "apt cache", re.compile(r"^var/cache/apt/"),
              "add `apt-get clean && rm -rf /var/cache/apt/*` to the RUN that installs"
              " (or use RUN --mount=type=cache,target=/var/cache/apt)"),
    _Leftover("apk-cache", "apk cache", re.compile(r"^(var/cache/apk|etc/apk/cache)/"),
              "use `apk add --no-cache ...`"),
    _Leftover("yum-cache", "yum cache", re.compile(r"^var/cache/yum/"),
              "add `yum clean all && rm -rf /var/cache/yum` to the RUN that installs"),
    _Leftover("dnf-cache", "dnf cache", re.compile(r"^var/cache/dnf/"),
              "add `dnf clean all && rm -rf /var/cache/dnf` to the RUN that installs"),
    _Leftover("pip-cache", "pip cache", re.compile(r"^(root|home/[^/]+)/\.cache/pip/"),
              "use `pip install --no-cache-dir` (or ENV PIP_NO_CACHE_DIR=1)"),
    _Leftover("npm-cache", "npm cache", re.compile(r"^(root|home/[^/]+)/\.npm/"),
              "run `npm cache clean --force` in the same RUN as `npm ci`, or use"
              " RUN --mount=type=cache,target=/root/.npm"),
    _Leftover("pycache", "Python bytecode caches (__pycache__)",
              re.compile(r"(^|/)__pycache__/"),
              "set ENV PYTHONDONTWRITEBYTECODE=1 while building, or compile once in a"
              " builder stage", "low"),
)

_BUILD_TOOLS: Final = re.compile(
    r"^usr/(local/)?bin/([a-z0-9_]+-linux-gnu-)?(gcc|g\+\+|cc|c\+\+|cpp|clang|clang\+\+|"
    r"make|gmake|ld|as)(-[0-9.]+)?$"
    r"|^usr/(lib|libexec)/gcc/.+/(cc1|cc1plus|collect2|lto1)$"
    r"|^usr/(local/)?include/"
)
_DEV_PACKAGE: Final = re.compile(r"^var/lib/dpkg/info/([^/]+?-dev)(:[a-z0-9]+)?\.list$")
_GCC_TREE: Final = re.compile(r"^usr/(lib|libexec)/gcc/")


def _step(analysis: Analysis, layer: int | None) -> str:
    return analysis.layers[layer].step.created_by if layer is not None else ""


def _lost_ids(analysis: Analysis) -> dict[int, int]:
    """id(file version) -> layer that removed it."""
    return {id(lost.file): lost.by_layer for lost in analysis.lost}


# One search per file instead of one per rule: group i is rule i.
_ANY_LEFTOVER: Final = re.compile(
    "|".join(f"(?P<r{i}>{rule.pattern.pattern})" for i, rule in enumerate(_LEFTOVERS)))


# Every leftover pattern needs one of these; testing them first spares the regex
# search on nearly every path (it was most of the time of analysing a big image).
_LEFTOVER_HEADS: Final = ("var/", "etc/apk/", "root/", "home/")
_LEFTOVER_PART: Final = "__pycache__/"
# ... and every build-tool pattern one of these.
_TOOL_HEADS: Final = ("usr/bin/", "usr/local/bin/", "usr/lib/gcc/", "usr/libexec/gcc/",
                      "usr/include/", "usr/local/include/")
_DPKG_INFO: Final = "var/lib/dpkg/info/"


def _leftovers_by_rule(files: list[LayerFile]) -> dict[int, list[LayerFile]]:
    out: dict[int, list[LayerFile]] = defaultdict(list)
    for item in files:
        path = item.path
        if item.kind != FILE or not (path.startswith(_LEFTOVER_HEADS) or _LEFTOVER_PART in path):
            continue
        match = _ANY_LEFTOVER.search(path)
        if match is not None and match.lastgroup is not None:
            out[int(match.lastgroup[1:])].append(item)
    return out


def leftover_rule(path: str) -> str | None:
    """The leftover rule (``apt-lists``, ``pip-cache``, ...) a layer member's path is under."""
    match = _ANY_LEFTOVER.search(path)
    if match is None or match.lastgroup is None:
        return None
    return _LEFTOVERS[int(match.lastgroup[1:])].rule


def is_build_tool(path: str) -> bool:
    """A compiler, linker, make, a gcc internal or a header (layer member path)."""
    return bool(_BUILD_TOOLS.search(path) or _GCC_TREE.search(path))


def leftovers(analysis: Analysis) -> list[Finding]:
    lost = _lost_ids(analysis)
    out: list[Finding] = []
    matches = [_leftovers_by_rule(layer.scan.files) for layer in analysis.layers]
    for number, rule in enumerate(_LEFTOVERS):
        for layer in analysis.layers:
            matched = matches[layer.index].get(number, [])
            shipped = sum(f.size for f in matched)
            if not matched or shipped == 0:
                continue
            removed_by = sorted({lost[id(f)] for f in matched if id(f) in lost})
            kept = sum(f.size for f in matched if id(f) not in lost)
            detail = (f"{len(matched)} file{'s' if len(matched) != 1 else ''},"
                      f" {kept} bytes still in the final image")
            fix = rule.fix
            if removed_by and kept < shipped:
                later = ", ".join(str(i) for i in removed_by)
                detail += (f"; layer {later} deletes {shipped - kept} bytes of them, but a"
                           " later layer cannot shrink this one")
                fix = f"delete them in the same step that creates them: {rule.fix}"
            severity = rule.severity
            if layer.is_base:
                severity = "low"
                fix = ("it comes with the base image, and no later step can shrink a base"
                       " layer: choose a base image that cleans up after its package manager")
            out.append(Finding(rule.rule, "leftover", severity,
                               f"{rule.title} left in layer {layer.index}", shipped, fix,
                               layer.index, layer.step.created_by,
                               tuple("/" + f.path for f in matched[:_SAMPLE]), detail))
    return out


def build_tools(analysis: Analysis) -> list[Finding]:
    by_layer: dict[int, list[LayerFile]] = defaultdict(list)
    dev_packages: dict[int, set[str]] = defaultdict(set)
    for item in analysis.final_files():
        path = item.path
        if path.startswith(_TOOL_HEADS):
            if _BUILD_TOOLS.search(path) or _GCC_TREE.search(path):
                by_layer[item.layer].append(item)
        elif path.startswith(_DPKG_INFO):
            match = _DEV_PACKAGE.search(path)
            if match:
                dev_packages[item.layer].add(match.group(1))
    out = []
    for layer in sorted(set(by_layer) | set(dev_packages)):
        items = by_layer[layer]
        tools = sorted({f.path.rpartition("/")[2] for f in items
                        if "/include/" not in "/" + f.path and not _GCC_TREE.search(f.path)})
        headers = sum(1 for f in items if "include/" in f.path and f.kind == FILE)
        parts = []
        if tools:
            parts.append("tools: " + ", ".join(tools[:_SAMPLE]))
        if headers:
            parts.append(f"{headers} header files")
        if dev_packages[layer]:
            parts.append("-dev packages: " + ", ".join(sorted(dev_packages[layer])[:_SAMPLE]))
        if not parts:
            continue
        out.append(Finding(
            "build-tools", "build-tools", "medium",
            f"compilers/headers/build tools in the final image (layer {layer})",
            sum(f.size for f in items),
            "build in a builder stage and COPY --from=builder only the artifacts into a"
            " runtime stage (multi-stage build)",
            layer, _step(analysis, layer),
            tuple("/" + f.path for f in items[:_SAMPLE]), "; ".join(parts)))
    return out


def _os_release(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            out[key.strip()] = value.strip().strip('"').strip("'")
    return out


# (os-release ID, base bytes above which it is the full flavour, what to use instead)
_HEAVY: Final = {
    "debian": (90_000_000, "debian:{codename}-slim (or gcr.io/distroless/base-debian12)"),
    "ubuntu": (50_000_000, "debian:{codename}-slim, an Ubuntu chiselled image, or distroless"),
    "centos": (100_000_000, "registry.access.redhat.com/ubi9/ubi-minimal or ubi-micro"),
    "rhel": (100_000_000, "registry.access.redhat.com/ubi9/ubi-minimal or ubi-micro"),
    "fedora": (100_000_000, "registry.fedoraproject.org/fedora-minimal"),
    "rocky": (100_000_000, "rockylinux:9-minimal"),
    "almalinux": (100_000_000, "almalinux:9-minimal"),
    "ol": (100_000_000, "oraclelinux:9-slim"),
    "amzn": (100_000_000, "amazonlinux with dnf --setopt=install_weak_deps=False, or distroless"),
}


_DOCS: Final = re.compile(r"^usr/share/(man/|doc/[^/]+/(?!copyright$))")
# Slim flavours (debian:*-slim, minimized Ubuntu) drop man pages and docs but copyrights.
_DOCS_OF_A_FULL_IMAGE: Final = 100


def heavy_base(analysis: Analysis) -> list[Finding]:
    info = _os_release(analysis.os_release)
    distro = info.get("ID", "")
    if distro not in _HEAVY or analysis.base_layers == 0:
        return []
    limit, instead = _HEAVY[distro]
    base_bytes = sum(layer.size for layer in analysis.layers[: analysis.base_layers])
    docs = sum(1 for item in analysis.final_files()
               if item.layer < analysis.base_layers and _DOCS.search(item.path))
    if base_bytes <= limit and docs < _DOCS_OF_A_FULL_IMAGE:
        return []
    codename = info.get("VERSION_CODENAME", "") or "bookworm"
    if distro == "ubuntu":
        codename = "bookworm"
    name = info.get("PRETTY_NAME") or distro
    last = analysis.base_layers - 1
    return [Finding(
        "heavy-base", "base", "low", f"heavyweight base image: {name} (full, not slim)",
        base_bytes, f"start FROM {instead.format(codename=codename)}", last,
        _step(analysis, last), (),
        f"the base layers hold {base_bytes} bytes, with {docs} man pages and documentation"
        " files a slim image leaves out")]


def small_layers(analysis: Analysis) -> list[Finding]:
    small = [layer for layer in analysis.layers[analysis.base_layers:]
             if layer.size < SMALL_LAYER_BYTES]
    if len(small) < SMALL_LAYER_LIMIT:
        return []
    return [Finding(
        "small-layers", "layers", "low",
        f"{len(small)} layers under 1 MiB above the base",
        sum(layer.size for layer in small),
        "combine consecutive RUN steps with && (and COPY what belongs together in one step);"
        " every layer costs a download, a hash and an overlay mount",
        small[0].index, small[0].step.created_by, (),
        "layers " + ", ".join(str(layer.index) for layer in small))]


def _secret_label(item: LayerFile) -> str:
    return "private key" if item.secret == SECRET_PRIVATE_KEY else ".env file"


def secrets(analysis: Analysis) -> list[Finding]:
    out = []
    for lost in analysis.lost:
        item = lost.file
        if not item.secret:
            continue
        by = analysis.layers[lost.by_layer]
        out.append(Finding(
            "secret-deleted", "secret", "high",
            f"{_secret_label(item)} /{item.path} is {lost.reason} in layer {by.index}"
            f" but still ships in layer {item.layer}",
            item.size,
            "anyone who pulls the image can extract it from the earlier layer: rotate it,"
            " and pass secrets with RUN --mount=type=secret instead of COPY",
            item.layer, _step(analysis, item.layer), ("/" + item.path,),
            f"removed by: {by.step.created_by}"))
    for item in analysis.final_files():
        if item.secret:
            out.append(Finding(
                "secret", "secret", "high", f"{_secret_label(item)} /{item.path} in the image",
                item.size, "remove it from the build context (.dockerignore) and rotate it;"
                " use RUN --mount=type=secret for build-time secrets",
                item.layer, _step(analysis, item.layer), ("/" + item.path,)))
    return out


def find_problems(analysis: Analysis) -> list[Finding]:
    found = [*secrets(analysis), *leftovers(analysis), *build_tools(analysis),
             *heavy_base(analysis), *small_layers(analysis)]
    order = {"high": 0, "medium": 1, "low": 2, "info": 3}
    found.sort(key=lambda f: (order[f.severity], -f.bytes, f.rule, f.layer or 0))
    return found


