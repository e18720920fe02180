"""Go's ``fmt`` verbs as docker's classic builder uses them in history ``created_by`` text.

Docker writes ``CMD %q`` of a string slice (``["sh" "-c" "echo hi"]``), ``VOLUME %v``
(``[/data /d2]``) and ``HEALTHCHECK %q`` of a struct pointer
(``&{["CMD-SHELL" "x"] "5s" "0s" "0s" '\\x03'}``); matching those bytes lets
``history`` read the same as docker's.
"""

from __future__ import annotations

from collections.abc import Sequence

_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t",
            "\v": "\\v", "\\": "\\\\"}


def _escape_char(ch: str, quote: str) -> str:
    if ch == quote:
        return "\\" + ch
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    code = ord(ch)
    if code < 0x20 or code == 0x7F:
        return f"\\x{code:02x}"
    if not ch.isprintable():
        return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
    return ch


def quote(text: str) -> str:
    """Go's ``strconv.Quote``."""
    return '"' + "".join(_escape_char(ch, '"') for ch in text) + '"'


def quote_rune(code: int) -> str:
    """Go's ``%q`` of an int: a quoted character literal."""
    return "'" + _escape_char(chr(code), "'") + "'"


def quote_list(items: Sequence[str] | None) -> str:
    """Go's ``%q`` of a ``[]string``: ``["a" "b"]``."""
    return "[" + " ".join(quote(i) for i in items or ()) + "]"


def plain_list(items: Sequence[str] | None) -> str:
    """Go's ``%v`` of a ``[]string``: ``[a b]``."""
    return "[" + " ".join(items or ()) + "]"


def duration(nanoseconds: int) -> str:
    """Go's ``time.Duration.String``: ``0s``, ``1.5s``, ``5m0s``, ``1h0m0s``, ``300ms``."""
    if nanoseconds == 0:
        return "0s"
    sign = "-" if nanoseconds < 0 else ""
    n = abs(nanoseconds)
    if n < 1_000_000_000:
        for unit, size in (("ms", 1_000_000), ("µs", 1_000), ("ns", 1)):
            if n >= size or unit == "ns":
                return sign + _fraction(n, size) + unit
    hours, rest = divmod(n, 3_600_000_000_000)
    minutes, rest = divmod(rest, 60_000_000_000)
    seconds = _fraction(rest, 1_000_000_000) + "s"
    if hours:
        return f"{sign}{hours}h{minutes}m{seconds}"
    if minutes:
        return f"{sign}{minutes}m{seconds}"
    return sign + seconds


def _fraction(value: int, unit: int) -> str:
    whole, frac = divmod(value, unit)
    if not frac:
        return str(whole)
    digits = len(str(unit)) - 1
    return f"{whole}." + f"{frac:0{digits}d}".rstrip("0")
