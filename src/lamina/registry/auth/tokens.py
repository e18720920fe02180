"""Bearer tokens: ES256 JWTs as distribution's token spec describes them
(docs/spec/auth/jwt.md): ``iss``, ``sub``, ``aud``, ``exp``, ``nbf``, ``iat``, ``jti`` and
``access``, the list of resources with the actions granted.

The registry signs with a P-256 key it generates on first use and keeps under its root
(``auth/token-signing-key.pem``, mode 0600); it verifies with the same key, accepting
only ES256, so ``alg: none``, HS256 confusion and other keys are refused. A verified
token is remembered until it expires, so repeated requests skip the signature check.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from lamina.registry.auth.scopes import Scope, access_claim, claimed_actions

ALGORITHM = "ES256"
KEY_FILE = Path("auth") / "token-signing-key.pem"
LEEWAY_SECONDS = 5  # clock skew between hosts behind one proxy


class InvalidToken(Exception):
    """The token is not one we issued, or no longer valid; the message says why."""


@dataclass(frozen=True)
class Claims:
    subject: str | None  # None: an anonymous token
    access: list[dict[str, Any]]
    expires: float

    def actions(self, kind: str, name: str) -> frozenset[str]:
        return claimed_actions(self.access, kind, name)


def load_or_create_key(root: Path) -> ec.EllipticCurvePrivateKey:
    """The signing key under ``root``; made once, atomically, when missing (workers race)."""
    path = root / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)  # fails if another process won: then we use theirs
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(loaded, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{path} is not an EC private key")
    return loaded


def key_id(key: ec.EllipticCurvePublicKey) -> str:
    der = key.public_bytes(serialization.Encoding.DER,
                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.urlsafe_b64encode(hashlib.sha256(der).digest()[:15]).decode()


class TokenService:
    def __init__(self, key: ec.EllipticCurvePrivateKey, issuer: str, service: str,
                 lifetime: int) -> None:
        self._key = key
        self._public = key.public_key()
        self.kid = key_id(self._public)
        self.issuer = issuer
        self.service = service
        self.lifetime = lifetime
        self._verified: dict[str, Claims] = {}
        self._lock = threading.Lock()

    def issue(self, subject: str | None, granted: list[Scope],
              now: float | None = None) -> tuple[str, int, float]:
        """(token, expires_in, issued_at) for ``subject`` with exactly ``granted``."""
        issued = int(now if now is not None else time.time())
        claims = {"iss": self.issuer, "sub": subject or "", "aud": self.service,
                  "exp": issued + self.lifetime, "nbf": issued, "iat": issued,
                  "jti": secrets.token_urlsafe(16), "access": access_claim(granted)}
        token = jwt.encode(claims, self._key, algorithm=ALGORITHM,
                           headers={"kid": self.kid, "typ": "JWT"})
        return token, self.lifetime, float(issued)

    def verify(self, token: str) -> Claims:
        now = time.time()
        with self._lock:
            cached = self._verified.get(token)
        if cached is not None and cached.expires > now:
            return cached
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") != ALGORITHM:
                raise InvalidToken(f"token algorithm {header.get('alg')!r} is not {ALGORITHM}")
            if header.get("kid") not in (None, self.kid):
                raise InvalidToken("token was signed with a key this registry does not have")
            data = jwt.decode(token, self._public, algorithms=[ALGORITHM],
                              audience=self.service, issuer=self.issuer, leeway=LEEWAY_SECONDS,
                              options={"require": ["exp", "nbf", "iat", "iss", "aud", "sub"]})
        except InvalidToken:
            raise
        except jwt.ExpiredSignatureError:
            raise InvalidToken("token has expired") from None
        except jwt.ImmatureSignatureError:
            raise InvalidToken("token is not valid yet (nbf)") from None
        except jwt.InvalidAudienceError:
            raise InvalidToken(f"token is not for this service ({self.service})") from None
        except jwt.InvalidIssuerError:
            raise InvalidToken(f"token was not issued by {self.issuer}") from None
        except jwt.InvalidSignatureError:
            raise InvalidToken("token signature does not verify") from None
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"invalid token: {exc}") from None
        access = data.get("access", [])
        claims = Claims(str(data["sub"]) or None, access if isinstance(access, list) else [],
                        float(data["exp"]))
        with self._lock:
            if len(self._verified) > 10_000:
                self._verified.clear()
            self._verified[token] = claims
        return claims
