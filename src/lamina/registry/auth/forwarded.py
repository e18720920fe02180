"""The registry's external URL and the caller's address, behind a reverse proxy or not.

``X-Forwarded-Proto``, ``X-Forwarded-Host`` and ``X-Forwarded-For`` are honoured only
with ``trust_proxy_headers`` (anyone can send them; only a proxy we sit behind may be
believed). The proxy must overwrite, not pass through, what clients send.
"""

from __future__ import annotations

from collections.abc import Mapping


def _first(value: str) -> str:
    return value.split(",", 1)[0].strip()


def external_base(headers: Mapping[str, str], tls: bool, trust_proxy: bool) -> str:
    """``scheme://host[:port]`` as clients reach us."""
    scheme = "https" if tls else "http"
    host = headers.get("host", "")
    if trust_proxy:
        scheme = _first(headers.get("x-forwarded-proto", "")) or scheme
        host = _first(headers.get("x-forwarded-host", "")) or host
    return f"{scheme}://{host or 'localhost'}"


def caller_address(headers: Mapping[str, str], peer: str, trust_proxy: bool) -> str:
    """The client's address: the peer, or (behind a proxy) the last hop it added."""
    if trust_proxy:
        forwarded = headers.get("x-forwarded-for", "")
        if forwarded:
            return forwarded.rsplit(",", 1)[-1].strip()
    return peer
