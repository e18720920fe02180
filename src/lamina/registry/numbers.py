"""Decimal numbers from client input (headers, query parameters), parsed one way.

``str.isdigit`` accepts Unicode digits such as ``²`` that ``int`` refuses, and
``int`` refuses strings over 4,300 digits; both used to surface as 500s. Here a
number is 1 to 19 ASCII digits and at most SQLite's largest integer.
"""

from __future__ import annotations

import re

from lamina.registry.errors import RegistryError

MAX_INTEGER = 2**63 - 1  # SQLite's INTEGER and the largest size anything here stores
_DECIMAL = re.compile(r"[0-9]{1,19}")


def decimal(text: str, what: str, error: type[RegistryError]) -> int:
    """A non-negative integer from ``text``; ``error`` naming ``what`` otherwise."""
    if not _DECIMAL.fullmatch(text) or int(text) > MAX_INTEGER:
        shown = text if len(text) <= 40 else text[:40] + "..."
        raise error(f"invalid {what} {shown!r}: expected ASCII digits, at most {MAX_INTEGER}")
    return int(text)
