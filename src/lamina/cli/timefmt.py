"""Times as docker prints them ("2 hours ago")."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_created(text: str) -> datetime | None:
    """An RFC 3339 time as image configs carry it (nanoseconds are cut to micro)."""
    if not text:
        return None
    value = text.replace("Z", "+00:00")
    if "." in value:
        head, _, rest = value.partition(".")
        digits = "".join(c for c in rest if c.isdigit())
        zone = rest[len(digits):]
        value = f"{head}.{digits[:6].ljust(6, '0')}{zone}"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def human_duration(seconds: float) -> str:
    """docker's units.HumanDuration."""
    s = int(seconds)
    if s < 1:
        return "Less than a second"
    if s == 1:
        return "1 second"
    if s < 60:
        return f"{s} seconds"
    minutes = int(seconds / 60)
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = int(seconds / 3600 + 0.5)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{int(seconds / 3600) // 24 // 365} years"


def ago(created: str, now: datetime | None = None) -> str:
    when = parse_created(created)
    if when is None or when.year <= 1:
        return "N/A"
    now = now or datetime.now(UTC)
    return f"{human_duration((now - when).total_seconds())} ago"


def utc_time(stamp: float | None) -> str:
    """A Unix time as RFC 3339 UTC to the second; "never" for none."""
    if stamp is None:
        return "never"
    return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
