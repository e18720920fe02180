"""The registry auth handshake: ``WWW-Authenticate`` challenges, Basic, and Bearer tokens.

Distribution's token flow (distribution/docs/spec/auth/token.md): a 401 names a
realm, service and scope; we GET the realm with those (Basic credentials when we
have them, anonymous otherwise) and retry with ``Authorization: Bearer``. Tokens
are cached per scope set until shortly before they expire.
"""

from __future__ import annotations

import base64
import re
import threading
import time
from dataclasses import dataclass, field

import httpx

from lamina.client.credentials import Credential
from lamina.client.errors import AuthError

# Refresh a little early so a token never expires between check and use.
_EXPIRY_MARGIN = 10.0
_DEFAULT_TOKEN_LIFETIME = 60.0

_PARAM = re.compile(r'\s*([A-Za-z0-9_.-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?')


@dataclass(frozen=True)
class Challenge:
    scheme: str  # lower case: "basic" or "bearer"
    params: dict[str, str] = field(default_factory=dict)

    @property
    def realm(self) -> str:
        return self.params.get("realm", "")


def parse_challenges(header: str) -> list[Challenge]:
    """Parse a ``WWW-Authenticate`` value (RFC 7235) into its challenges."""
    out: list[Challenge] = []
    pos = 0
    text = header.strip()
    while pos < len(text):
        m = re.match(r"\s*,?\s*([A-Za-z][A-Za-z0-9_-]*)\s*", text[pos:])
        if m is None:
            break
        scheme = m.group(1).lower()
        pos += m.end()
        params: dict[str, str] = {}
        while pos < len(text):
            pm = _PARAM.match(text, pos)
            if pm is None:
                break
            value = pm.group(2)
            params[pm.group(1).lower()] = (
                re.sub(r"\\(.)", r"\1", value) if value is not None else pm.group(3)
            )
            pos = pm.end()
        out.append(Challenge(scheme, params))
    return out


def basic_header(credential: Credential) -> str:
    raw = f"{credential.username}:{credential.password}".encode()
    return "Basic " + base64.b64encode(raw).decode()


@dataclass
class _Token:
    value: str
    expires_at: float


class Authenticator:
    """Answers one registry's challenges; shared by every request to that registry."""

    def __init__(self, http: httpx.Client, registry: str, credential: Credential | None) -> None:
        self._http = http
        self._registry = registry
        self.credential = credential
        self.challenge: Challenge | None = None
        self._tokens: dict[tuple[str, ...], _Token] = {}
        self._lock = threading.Lock()
        self._fetching = threading.Lock()  # one token request at a time, not one per thread

    def header(self, scopes: tuple[str, ...]) -> str | None:
        """The Authorization value to send, fetching a token when the challenge asks for one."""
        challenge = self.challenge
        if challenge is None:
            return None
        if challenge.scheme == "basic":
            return basic_header(self.credential) if self.credential and self.credential.username \
                else None
        if challenge.scheme == "bearer":
            return "Bearer " + self._token(scopes)
        return None

    def unauthorized(self, response: httpx.Response, scopes: tuple[str, ...],
                     sent: str | None) -> None:
        """Learn from a 401 to a request that carried ``sent`` as Authorization."""
        challenges = parse_challenges(response.headers.get("www-authenticate", ""))
        known = [c for c in challenges if c.scheme in ("bearer", "basic")]
        if not known:
            raise AuthError(
                f"{self._registry} answered 401 without a Basic or Bearer challenge"
                f" ({response.headers.get('www-authenticate', 'no WWW-Authenticate header')})"
            )
        chosen = next((c for c in known if c.scheme == "bearer"), known[0])
        with self._lock:
            self.challenge = chosen
            refused = self._tokens.get(_key(scopes))
            if refused is not None and sent == f"Bearer {refused.value}":
                # Revoked, or expired early: the retry fetches a new one.
                del self._tokens[_key(scopes)]
        if chosen.scheme == "basic" and (self.credential is None or not self.credential.username):
            raise AuthError(
                f"{self._registry} requires authentication: run `lamina login {self._registry}`"
            )
        if sent is not None and sent.startswith("Basic ") and chosen.scheme == "basic":
            raise AuthError(f"{self._registry} refused the credentials for"
                            f" {self.credential.username if self.credential else 'anonymous'}:"
                            " unauthorized")

    def _token(self, scopes: tuple[str, ...]) -> str:
        key = _key(scopes)
        with self._fetching:
            with self._lock:
                cached = self._tokens.get(key)
                if cached is not None and cached.expires_at > time.time() + _EXPIRY_MARGIN:
                    return cached.value
            token = self._fetch_token(key)
            with self._lock:
                self._tokens[key] = token
            return token.value

    def _fetch_token(self, scopes: tuple[str, ...]) -> _Token:
        assert self.challenge is not None
        realm = self.challenge.realm
        if not realm:
            raise AuthError(f"{self._registry}: Bearer challenge without a realm")
        params: list[tuple[str, str | int | float | bool | None]] = []
        if "service" in self.challenge.params:
            params.append(("service", self.challenge.params["service"]))
        params.extend(("scope", s) for s in scopes)
        cred = self.credential
        try:
            if cred is not None and cred.identity_token:
                response = self._http.post(realm, data={
                    "grant_type": "refresh_token", "refresh_token": cred.identity_token,
                    "service": self.challenge.params.get("service", ""),
                    "scope": " ".join(scopes), "client_id": "lamina",
                })
            else:
                headers = {}
                if cred is not None and cred.username:
                    headers["Authorization"] = basic_header(cred)
                response = self._http.get(realm, params=params, headers=headers)
        except httpx.HTTPError as exc:
            raise AuthError(f"{self._registry}: token endpoint {realm} unreachable: {exc}") from exc
        if response.status_code in (401, 403):
            who = cred.username if cred is not None and cred.username else "anonymous"
            raise AuthError(f"{self._registry}: token endpoint refused {who}"
                            f" (HTTP {response.status_code}): unauthorized")
        if response.status_code != 200:
            raise AuthError(f"{self._registry}: token endpoint {realm} answered"
                            f" HTTP {response.status_code}")
        try:
            doc = response.json()
        except ValueError as exc:
            raise AuthError(f"{self._registry}: token endpoint did not return JSON") from exc
        value = doc.get("token") or doc.get("access_token") if isinstance(doc, dict) else None
        if not isinstance(value, str) or not value:
            raise AuthError(f"{self._registry}: token response has neither 'token' nor"
                            " 'access_token'")
        lifetime = doc.get("expires_in", _DEFAULT_TOKEN_LIFETIME)
        if not isinstance(lifetime, int | float) or lifetime <= 0:
            lifetime = _DEFAULT_TOKEN_LIFETIME
        return _Token(value, time.time() + float(lifetime))


def _key(scopes: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted(set(scopes)))

