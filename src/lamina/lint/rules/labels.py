"""LABEL keys and, when a label schema is configured, required labels and their values.

The key format is Docker's ("Docker object labels": lower-case alphanumerics, ``.`` and
``-``, starting and ending with a letter or digit, no repeated separators, and the
``com.docker.*``, ``io.docker.*``, ``org.dockerproject.*`` namespaces reserved). The
schema (``[lint] label_schema`` or hadolint's ``label-schema``) maps a label to its type:
text, url, semver, hash (a git commit), rfc3339, spdx or email.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from lamina.config import ConfigError
from lamina.dockerfile import Instruction, Stage
from lamina.lint.context import LintContext
from lamina.lint.registry import Hit, rule
from lamina.lint.severity import Severity

_KEY = re.compile(r"^[a-z0-9]+(?:[.-][a-z0-9]+)*$")
_RESERVED = ("com.docker.", "io.docker.", "org.dockerproject.")
_SEMVER = re.compile(
    r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?"
    r"(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$")
_HASH = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


def _url(value: str) -> bool:
    from urllib.parse import urlsplit  # loaded only when a schema asks for a URL

    parts = urlsplit(value)
    return bool(parts.scheme and parts.netloc)


def _rfc3339(value: str) -> bool:
    if not re.match(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$",
                    value):
        return False
    from datetime import datetime

    try:
        datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _spdx(value: str) -> bool:
    from packaging.licenses import InvalidLicenseExpression, canonicalize_license_expression

    try:
        canonicalize_license_expression(value)
    except InvalidLicenseExpression:
        return False
    return True


VALIDATORS: dict[str, tuple[str, Callable[[str], bool]]] = {
    "text": ("text", lambda v: True),
    "url": ("a URL", _url),
    "semver": ("a semantic version", lambda v: bool(_SEMVER.match(v))),
    "hash": ("a git commit hash", lambda v: bool(_HASH.match(v))),
    "rfc3339": ("an RFC 3339 time", _rfc3339),
    "spdx": ("an SPDX license expression", _spdx),
    "email": ("an email address", lambda v: bool(_EMAIL.match(v))),
}


def check_schema(schema: dict[str, str]) -> None:
    bad = sorted(f"{k} = {v!r}" for k, v in schema.items() if v not in VALIDATORS)
    if bad:
        raise ConfigError(f"label schema: unknown label types ({', '.join(bad)}); use one of "
                          f"{', '.join(VALIDATORS)}")


def _labels(stage: Stage) -> Iterator[tuple[Instruction, str, str]]:
    for instruction in stage.of("LABEL"):
        for key, value in instruction.pairs():
            yield instruction, key.strip("\"'"), value.strip("\"'")


def _all_labels(ctx: LintContext) -> Iterator[tuple[Instruction, str, str]]:
    for stage in ctx.dockerfile.stages:
        yield from _labels(stage)


@rule("LM520", Severity.STYLE, "Invalid label key",
      "Write label keys in lower case with dots and dashes (org.opencontainers.image.source), "
      "outside the com.docker., io.docker. and org.dockerproject. namespaces.")
def invalid_label_key(ctx: LintContext) -> Iterator[Hit]:
    for instruction, key, _ in _all_labels(ctx):
        if "$" in key:
            continue
        if not _KEY.match(key) or key.startswith(_RESERVED):
            yield Hit(instruction.start_line, instruction.end_line, key)


@rule("LM521", Severity.INFO, "Required label missing",
      "Add the labels the label schema lists to every stage (LABEL key=value).")
def missing_label(ctx: LintContext) -> Iterator[Hit]:
    for stage in ctx.dockerfile.stages:
        present = {key for _, key, _ in _labels(stage)}
        missing = [k for k in ctx.label_schema if k not in present]
        if missing:
            start = stage.from_instruction.start_line
            yield Hit(start, start, f"missing: {', '.join(missing)}")


@rule("LM522", Severity.INFO, "Label outside the schema",
      "With strict_labels, use only the labels the label schema lists.")
def superfluous_label(ctx: LintContext) -> Iterator[Hit]:
    if not ctx.strict_labels or not ctx.label_schema:
        return
    for instruction, key, _ in _all_labels(ctx):
        if key not in ctx.label_schema:
            yield Hit(instruction.start_line, instruction.end_line, key)


@rule("LM523", Severity.WARNING, "Label value of the wrong type",
      "Give each label in the schema a value of its type: not empty, and a URL, semantic "
      "version, git hash, RFC 3339 time, SPDX expression or email where the schema says so.")
def wrong_label_value(ctx: LintContext) -> Iterator[Hit]:
    for instruction, key, value in _all_labels(ctx):
        kind = ctx.label_schema.get(key)
        if kind is None or "$" in value:
            continue
        what, valid = VALIDATORS[kind]
        if not value:
            yield Hit(instruction.start_line, instruction.end_line, f"{key} is empty")
        elif not valid(value):
            yield Hit(instruction.start_line, instruction.end_line, f"{key} is not {what}")
