"""Credentials in an image's layers: every layer's files read once against secret_rules.

A secret in any layer is exposed to whoever pulls the image, even when a later
layer deletes it, so each hit names the layer and the Dockerfile step that
added it. Files under system directories (package-managed code and data),
larger than MAX_FILE, or without any rule's keyword are not searched.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import BinaryIO, Final

from lamina.errors import LaminaError
from lamina.layers import whiteout
from lamina.layers.tarstream import iter_members, member_path, open_tar
from lamina.oci import mediatype
from lamina.oci.descriptor import Descriptor
from lamina.oci.digest import Digest
from lamina.scan.secret_rules import RULES, SecretRule, redact

MAX_FILE: Final = 2 << 20
# package-managed trees: their keys and test vectors are the distribution's, not the image's
_SKIP: Final = re.compile(
    r"^(usr/(share|lib|lib32|lib64|libexec|include|src)|lib|lib32|lib64|proc|sys|dev"
    r"|var/lib/(dpkg|apt|rpm|apk)|var/cache|usr/bin|usr/sbin|bin|sbin)/")
_BINARY: Final = re.compile(r"\.(so(\.\d+)*|a|o|pyc|gz|xz|bz2|zst|zip|jar|whl|png|jpe?g|gif|ico"
                            r"|woff2?|ttf|mo|db|sqlite3?)$")


@dataclass(frozen=True)
class SecretHit:
    rule: SecretRule
    path: str  # absolute, inside the image
    layer: int
    line: int
    match: str  # redacted


def _hits(data: bytes, path: str, layer: int) -> list[SecretHit]:
    found = []
    for rule in RULES:
        if not any(k in data for k in rule.keywords):
            continue
        for m in rule.pattern.finditer(data):
            text = m.group(m.lastindex or 0).decode("latin-1")
            found.append(SecretHit(rule, "/" + path, layer, data.count(b"\n", 0, m.start()) + 1,
                                   redact(text)))
    return found


def scan_layer(stream: BinaryIO, index: int, compression: str | None) -> list[SecretHit]:
    found: list[SecretHit] = []
    with open_tar(stream, compression) as tar:
        for member in iter_members(tar):
            path = member_path(member.name)
            base = path.rpartition("/")[2]
            if (not member.isfile() or member.size > MAX_FILE or base.startswith(whiteout.WHITEOUT_PREFIX)
                    or _SKIP.match(path) or _BINARY.search(base)):
                continue
            handle = tar.extractfile(member)
            if handle is not None:
                found += _hits(handle.read(), path, index)
    return found


def find_secrets(layers: Sequence[Descriptor],
                 open_blob: Callable[[Digest], AbstractContextManager[BinaryIO]]
                 ) -> tuple[list[SecretHit], list[str]]:
    """Hits in every layer, bottom up, and the layers that could not be read."""
    hits: list[SecretHit] = []
    problems: list[str] = []
    for index, layer in enumerate(layers):
        try:
            with open_blob(layer.digest) as blob:
                hits += scan_layer(blob, index, mediatype.layer_compression(layer.media_type))
        except (LaminaError, OSError) as e:
            problems.append(f"layer {index} ({layer.digest}): {e}; not searched for secrets")
    return hits, problems


@dataclass(frozen=True)
class SecretFinding:
    """A secret as reported: a rule hit in a file, or analyze's private key / .env finding."""

    rule: str
    category: str
    severity: str  # CRITICAL, HIGH, MEDIUM, LOW
    title: str
    path: str
    layer: int
    in_final_image: bool  # False: a later layer deletes or replaces it, yet it still ships
    line: int = 0  # 0: the whole file (analyze's findings)
    match: str = ""
    fix: str = ""


FIX: Final = ("remove it from the build context (.dockerignore) and rotate it: every layer"
              " ships to whoever pulls the image, deleted later or not; pass build-time"
              " secrets with RUN --mount=type=secret")


def from_hit(hit: SecretHit, in_final_image: bool) -> SecretFinding:
    return SecretFinding(hit.rule.id, hit.rule.category, hit.rule.severity, hit.rule.title,
                         hit.path, hit.layer, in_final_image, hit.line, hit.match, FIX)
