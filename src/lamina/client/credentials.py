"""Credentials in Docker's config file, so an existing ``docker login`` works here too.

File: ``$DOCKER_CONFIG/config.json`` or ``~/.docker/config.json``. Entries live
under ``auths`` keyed by registry (Docker Hub as ``https://index.docker.io/v1/``)
with ``auth`` = base64 ``user:password`` or an ``identitytoken``. When
``credHelpers`` names a helper for the registry, or ``credsStore`` names a
default one, ``docker-credential-<name> get|store|erase`` keeps the secret and
``auths`` keeps at most an empty entry (docker-credential-helpers protocol).
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lamina.client.errors import CredentialsError
from lamina.oci.reference import DOCKER_HUB

HUB_KEY = "https://index.docker.io/v1/"
_TOKEN_USER = "<token>"  # how helpers mark an identity token instead of a password


@dataclass(frozen=True)
class Credential:
    username: str = ""
    password: str = ""
    identity_token: str = ""


def config_dir() -> Path:
    explicit = os.environ.get("DOCKER_CONFIG")
    return Path(explicit) if explicit else Path.home() / ".docker"


def config_key(registry: str) -> str:
    """The key Docker files a registry's credentials under."""
    return HUB_KEY if registry in (DOCKER_HUB, "index.docker.io", "registry-1.docker.io") \
        else registry


def _host_of(key: str) -> str:
    host = key.split("://", 1)[-1]
    return host.split("/", 1)[0]


class DockerConfig:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or config_dir() / "config.json"

    def _read(self) -> dict[str, Any]:
        try:
            doc = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise CredentialsError(f"cannot read docker config {self.path}: {exc}") from exc
        if not isinstance(doc, dict):
            raise CredentialsError(f"docker config {self.path} must hold a JSON object")
        return doc

    def _write(self, doc: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix="config.json.")
        with os.fdopen(fd, "w") as fh:
            json.dump(doc, fh, indent="\t")
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)

    def helper_for(self, registry: str, doc: dict[str, Any] | None = None) -> str | None:
        doc = self._read() if doc is None else doc
        helpers = doc.get("credHelpers") or {}
        key = config_key(registry)
        for candidate in (key, registry):
            if isinstance(helpers, dict) and isinstance(helpers.get(candidate), str):
                return str(helpers[candidate])
        store = doc.get("credsStore")
        return store if isinstance(store, str) and store else None

    def get(self, registry: str) -> Credential | None:
        doc = self._read()
        helper = self.helper_for(registry, doc)
        if helper is not None:
            found = _helper_get(helper, config_key(registry))
            if found is not None:
                return found
        return _from_auths(doc.get("auths") or {}, registry)

    def store(self, registry: str, credential: Credential) -> None:
        doc = self._read()
        key = config_key(registry)
        helper = self.helper_for(registry, doc)
        auths = doc.setdefault("auths", {})
        if helper is not None:
            secret = credential.identity_token or credential.password
            user = _TOKEN_USER if credential.identity_token else credential.username
            _run_helper(helper, "store", json.dumps(
                {"ServerURL": key, "Username": user, "Secret": secret}))
            auths[key] = {}
        else:
            entry: dict[str, str] = {}
            if credential.identity_token:
                entry["identitytoken"] = credential.identity_token
                entry["auth"] = base64.b64encode(f"{credential.username}:".encode()).decode()
            else:
                entry["auth"] = base64.b64encode(
                    f"{credential.username}:{credential.password}".encode()).decode()
            auths[key] = entry
        self._write(doc)

    def erase(self, registry: str) -> bool:
        """Forget a registry's credentials; False when none were stored."""
        doc = self._read()
        key = config_key(registry)
        helper = self.helper_for(registry, doc)
        auths = doc.get("auths") or {}
        found = False
        for k in [k for k in auths if k == key or _host_of(k) == _host_of(key)]:
            del auths[k]
            found = True
        if helper is not None:
            try:
                _run_helper(helper, "erase", key)
                found = True
            except CredentialsError:
                pass
        if found:
            self._write(doc)
        return found


def _from_auths(auths: Any, registry: str) -> Credential | None:
    if not isinstance(auths, dict):
        raise CredentialsError("docker config 'auths' must be an object")
    key = config_key(registry)
    entry = auths.get(key)
    if entry is None:
        entry = next((v for k, v in auths.items() if _host_of(k) == _host_of(key)), None)
    if not isinstance(entry, dict):
        return None
    username, password = str(entry.get("username", "")), str(entry.get("password", ""))
    encoded = entry.get("auth")
    if isinstance(encoded, str) and encoded:
        try:
            username, sep, password = base64.b64decode(encoded).decode().partition(":")
        except (ValueError, UnicodeDecodeError) as exc:
            raise CredentialsError(f"docker config: 'auth' for {key} is not base64 user:password"
                                   ) from exc
        if not sep:
            raise CredentialsError(f"docker config: 'auth' for {key} lacks the ':' separator")
    token = str(entry.get("identitytoken", ""))
    if not username and not token:
        return None
    return Credential(username, password, token)


def _run_helper(helper: str, action: str, stdin: str) -> str:
    program = f"docker-credential-{helper}"
    try:
        proc = subprocess.run([program, action], input=stdin.encode(), capture_output=True,
                              timeout=60)
    except FileNotFoundError as exc:
        raise CredentialsError(f"credential helper {program} is not installed (named in"
                               " the docker config)") from exc
    if proc.returncode != 0:
        message = (proc.stdout or proc.stderr).decode(errors="replace").strip()
        raise CredentialsError(f"{program} {action} failed: {message}")
    return proc.stdout.decode()


def _helper_get(helper: str, key: str) -> Credential | None:
    try:
        out = _run_helper(helper, "get", key)
    except CredentialsError as exc:
        if "credentials not found" in str(exc).lower():
            return None
        raise
    try:
        doc = json.loads(out)
    except ValueError as exc:
        raise CredentialsError(f"docker-credential-{helper} get did not print JSON") from exc
    user, secret = str(doc.get("Username", "")), str(doc.get("Secret", ""))
    if user == _TOKEN_USER:
        return Credential(identity_token=secret)
    return Credential(user, secret) if user or secret else None
