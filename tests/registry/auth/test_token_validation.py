"""jwt.md "Verifying the token": signature, expiry, not-before, issuer, audience and
algorithm are all checked; every forged or stale token is refused with 401 UNAUTHORIZED
(``error="invalid_token"``) and nothing reaches storage."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from starlette.testclient import TestClient

from lamina.registry.auth.tokens import load_or_create_key
from tests.registry.auth.helpers import bearer, token
from tests.registry.helpers import error_codes, sha256

SCOPE = "repository:team/app:pull,push"


def _claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {"iss": "lamina-registry", "sub": "alice", "aud": "lamina-registry",
              "exp": now + 300, "nbf": now, "iat": now, "jti": "x",
              "access": [{"type": "repository", "name": "team/app",
                          "actions": ["pull", "push"]}]}
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _tampered(client: TestClient, key: ec.EllipticCurvePrivateKey) -> str:
    # A genuine pull-only token whose payload is edited to add push.
    header, payload, signature = token(client, "alice", "repository:team/app:pull").split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["access"][0]["actions"] = ["pull", "push"]
    return f"{header}.{_b64(claims)}.{signature}"


def _signed(**changes: Any) -> Callable[[TestClient, ec.EllipticCurvePrivateKey], str]:
    def make(client: TestClient, key: ec.EllipticCurvePrivateKey) -> str:
        return jwt.encode(_claims(**changes), key, algorithm="ES256")
    return make


def _unsigned(client: TestClient, key: ec.EllipticCurvePrivateKey) -> str:
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims())}."


def _other_key(client: TestClient, key: ec.EllipticCurvePrivateKey) -> str:
    return jwt.encode(_claims(), ec.generate_private_key(ec.SECP256R1()), algorithm="ES256")


def _hs256_with_public_key(client: TestClient, key: ec.EllipticCurvePrivateKey) -> str:
    from cryptography.hazmat.primitives import serialization

    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    header = _b64({"alg": "HS256", "typ": "JWT"})
    body = _b64(_claims())
    import hashlib
    import hmac

    mac = hmac.new(public, f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


CASES = {
    "tampered": _tampered,
    "expired": _signed(exp=int(time.time()) - 3600, iat=int(time.time()) - 7200,
                       nbf=int(time.time()) - 7200),
    "not-yet-valid": _signed(nbf=int(time.time()) + 3600),
    "alg-none": _unsigned,
    "wrong-key": _other_key,
    "hs256-confusion": _hs256_with_public_key,
    "wrong-audience": _signed(aud="another-registry"),
    "wrong-issuer": _signed(iss="someone-else"),
    "no-expiry": _signed(exp=None),
    "garbage": lambda client, key: "not.a.token",
}


def test_a_genuine_token_of_the_same_shape_is_accepted(token_client: TestClient,
                                                        access_root: Path) -> None:
    """The control case: the same claims signed with the registry's key are accepted."""
    key = load_or_create_key(access_root)
    r = token_client.post("/v2/team/app/blobs/uploads/", headers=bearer(_signed()(
        token_client, key)))
    assert r.status_code == 202


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_tokens_are_refused(case: str, token_client: TestClient,
                                access_root: Path) -> None:
    key = load_or_create_key(access_root)
    forged = CASES[case](token_client, key)
    data = b"forged layer"
    r = token_client.post("/v2/team/app/blobs/uploads/", params={"digest": sha256(data)},
                          content=data, headers=bearer(forged))
    assert r.status_code == 401, r.text
    assert error_codes(r) == ["UNAUTHORIZED"]
    assert 'error="invalid_token"' in r.headers["WWW-Authenticate"]
    r = token_client.get("/v2/team/app/tags/list", headers=bearer(forged))
    assert r.status_code == 401
    assert not [p for p in (access_root / "blobs").rglob("*") if p.is_file()]
    assert not any(p.is_file() for p in (access_root / "uploads").rglob("*"))


def test_signing_key_is_private_and_kept(token_client: TestClient, access_root: Path) -> None:
    """The key lives under the root, readable by its owner only, and survives restarts."""
    path = access_root / "auth" / "token-signing-key.pem"
    assert path.stat().st_mode & 0o777 == 0o600
    first = path.read_bytes()
    load_or_create_key(access_root)
    assert path.read_bytes() == first
