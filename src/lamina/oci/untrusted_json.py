"""JSON from untrusted clients, parsed with bounds on nesting and number size.

Python's parser recurses once per level (RecursionError near 1,000 levels) and
refuses integers over 4,300 digits with a bare ValueError; a client must get a
clear refusal instead, before either limit is reached.
"""

from __future__ import annotations

import json
from typing import Any

from lamina.errors import LaminaError

MAX_DEPTH = 64  # manifests nest about 5 levels, admin bodies 3
MAX_INTEGER = 2**63 - 1  # what SQLite (and Go's int64 in other registries) can hold
MAX_NUMBER_CHARS = 40


class JsonRefused(LaminaError):
    """Bytes that are not JSON, or JSON beyond the bounds untrusted input may reach."""


def _integer(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS or abs(int(text)) > MAX_INTEGER:
        raise JsonRefused(f"integer {text[:20]}... is beyond the range -2^63+1..2^63-1")
    return int(text)


def _real(text: str) -> float:
    value = float(text) if len(text) <= MAX_NUMBER_CHARS else float("inf")
    if value in (float("inf"), float("-inf")):
        raise JsonRefused(f"number {text[:20]}... is too large")
    return value


def _constant(text: str) -> Any:
    raise JsonRefused(f"{text} is not JSON")


def _encodable(text: str) -> bool:
    """False for a lone surrogate (``"\\ud800"`` parses to one): no UTF-8 store, log or
    answer can hold it (RFC 8259 section 8.2, I-JSON RFC 7493 section 2.1)."""
    if text.isascii():
        return True
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _check_tree(doc: Any, limit: int) -> None:
    stack = [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if not _encodable(value):
                raise JsonRefused("a string holds a lone UTF-16 surrogate (\\ud800-\\udfff)")
        elif isinstance(value, dict | list):
            if depth > limit:
                raise JsonRefused(f"JSON is nested more than {limit} levels deep")
            if isinstance(value, dict):
                stack.extend((key, depth) for key in value)
                stack.extend((child, depth + 1) for child in value.values())
            else:
                stack.extend((child, depth + 1) for child in value)


def loads(data: bytes | str, max_depth: int = MAX_DEPTH) -> Any:
    """The document in ``data``; JsonRefused naming the problem otherwise."""
    try:
        doc = json.loads(data, parse_int=_integer, parse_float=_real, parse_constant=_constant)
    except RecursionError:
        raise JsonRefused(f"JSON is nested more than {max_depth} levels deep") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise JsonRefused(f"not valid JSON: {exc}") from None
    _check_tree(doc, max_depth)
    return doc
