"""Registry settings: built-in defaults < ``[registry]`` in TOML < ``LAMINA_REGISTRY_*`` < flags.

Keys (TOML name / environment variable):

- ``root`` / ``LAMINA_REGISTRY_ROOT``: where blobs, uploads and the database live
  (default ``./lamina-registry``).
- ``addr`` / ``LAMINA_REGISTRY_ADDR``: ``HOST:PORT`` to listen on (default ``127.0.0.1:5000``).
- ``delete_enabled`` / ``LAMINA_REGISTRY_DELETE_ENABLED``: allow DELETE of manifests, tags
  and blobs (default true; false answers 405 UNSUPPORTED).
- ``delete_referenced`` / ``LAMINA_REGISTRY_DELETE_REFERENCED``: a manifest an index of
  the same repository lists may be deleted (with a warning) instead of 409 (default false).
- ``header_timeout_seconds`` / ``LAMINA_REGISTRY_HEADER_TIMEOUT_SECONDS``: a request's
  headers must arrive within this time, and an idle keep-alive connection closes after it
  (default 30; see docs/registry.md "Limits and timeouts" for what each server enforces).
- ``body_timeout_seconds`` / ``LAMINA_REGISTRY_BODY_TIMEOUT_SECONDS``: a request body that
  sends nothing for this long is abandoned; an upload keeps what arrived (default 60).
- ``max_client_requests`` / ``LAMINA_REGISTRY_MAX_CLIENT_REQUESTS``: requests in flight per
  client address and worker before 429 TOOMANYREQUESTS (default 128; 0: no limit).
- ``server`` / ``LAMINA_REGISTRY_SERVER``: ``granian`` (default) or ``uvicorn``.
- ``workers`` / ``LAMINA_REGISTRY_WORKERS``: server processes (default 1).
- ``gc_grace_seconds`` / ``LAMINA_REGISTRY_GC_GRACE_SECONDS``: a blob committed, linked or
  looked at within this time survives gc (default 1800).
- ``upload_expiry_seconds`` / ``LAMINA_REGISTRY_UPLOAD_EXPIRY_SECONDS``: gc removes upload
  sessions idle for longer (default 86400).
- ``access_log`` / ``LAMINA_REGISTRY_ACCESS_LOG``: JSON-lines access log on stderr (default true).
- ``layer_index_workers`` / ``LAMINA_REGISTRY_LAYER_INDEX_WORKERS``: threads per server
  process that run layer index jobs (queued on push), so the scan and the layer listing
  read file listings instead of layers (default 1; 0: none run or are queued here, a
  layer is indexed by its first reader).
- ``layer_index_on_push`` / ``LAMINA_REGISTRY_LAYER_INDEX_ON_PUSH``: queue the index job
  of each pushed layer, run in the background after the push (default true; false: only
  scan on push queues them, else a layer is indexed by its first reader, and the
  replica's CPU stays with pushes and pulls).

Access control (issue 5; see ``registry/auth/`` and the registry README):

- ``auth``: ``none`` (default: everyone may do everything), ``htpasswd`` (Basic on every
  request) or ``token`` (Docker's Bearer token flow with the built-in token endpoint).
- ``htpasswd_file``: an extra, read-only Apache htpasswd file of bcrypt users (default none).
- ``token_service`` / ``token_issuer``: the JWT ``aud`` / ``iss`` (default ``lamina-registry``).
- ``token_realm``: the token endpoint URL put in challenges (default: derived per request).
- ``token_expiry_seconds``: lifetime of issued tokens (default 300).
- ``trust_proxy_headers``: honour ``X-Forwarded-Proto/Host/For`` (only behind a proxy).
- ``login_failures`` / ``login_lockout_seconds``: failed logins allowed per user and per
  address within the lockout window before further attempts get 429 (default 5 / 60).
- ``audit``: record pushes, pulls, deletes, logins and permission changes (default true).
- ``tls_cert`` / ``tls_key``: PEM files; serve HTTPS when both are set.

Scale-out (issue 14; see docs/deploy.md). The defaults keep everything under ``root``:

- ``storage``: ``filesystem`` (default: blobs under ``root``) or ``s3`` (blobs in an S3 bucket).
- ``s3_endpoint``: the S3 API URL (empty: AWS's own endpoint for ``s3_region``).
- ``s3_region`` (default ``us-east-1``), ``s3_bucket`` (required for s3), ``s3_prefix`` (keys
  start with it; default none).
- ``s3_access_key`` / ``s3_secret_key``: static keys; empty: the standard AWS chain
  (``AWS_ACCESS_KEY_ID``..., ``AWS_PROFILE``, instance roles).
- ``s3_addressing``: ``path`` (default; what Ceph RGW and MinIO expect) or ``virtual``.
- ``s3_verify_tls`` (default true) / ``s3_ca_bundle``: certificate checks of an https endpoint.
- ``redirect``: answer blob GETs with 307 to a presigned URL of the object store (default
  false: stream through the registry); ``redirect_seconds``: the URL's lifetime (default 600).
- ``database``: empty (default: SQLite files under ``root``) or a PostgreSQL URL
  ``postgresql://user:pass@host:port/db`` shared by every replica; ``database_pool``:
  connections per process (default 8); ``migrate_on_start``: apply schema migrations when
  the server starts (default false: run ``lamina registry migrate-schema``).
- ``job_lease_seconds``: how long a replica's claim on a background job (a scan, a gc
  run) lasts without renewal; a job whose claimer died is taken over after it (default 60).
- ``tag_cache_seconds``: with ``database`` set, tag lookups are cached per process and
  invalidated through PostgreSQL LISTEN/NOTIFY; an entry lives at most this long
  (default 60; 0: no cache).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from lamina.config import ConfigError, config_path, load_table

ENV_PREFIX = "LAMINA_REGISTRY_"
SERVERS = ("granian", "uvicorn")
AUTH_MODES = ("none", "htpasswd", "token")
_CHOICES = {"server": SERVERS, "auth": AUTH_MODES, "storage": ("filesystem", "s3"),
            "s3_addressing": ("path", "virtual")}
_STRINGS = frozenset({"htpasswd_file", "token_service", "token_issuer", "token_realm",
                      "tls_cert", "tls_key", "s3_endpoint", "s3_region", "s3_bucket",
                      "s3_prefix", "s3_access_key", "s3_secret_key", "s3_ca_bundle",
                      "database"})
_BOOLS = frozenset({"delete_enabled", "delete_referenced", "access_log", "trust_proxy_headers", "audit",
                    "s3_verify_tls", "redirect", "migrate_on_start", "layer_index_on_push"})
_POSITIVE = frozenset({"header_timeout_seconds", "body_timeout_seconds",
                       "workers", "token_expiry_seconds", "login_failures", "redirect_seconds",
                       "database_pool", "job_lease_seconds"})


def parse_addr(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (or ``[v6]:PORT``) into its parts; ConfigError names the rule."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"invalid address {text!r}: expected HOST:PORT with a port 1-65535")
    return host.strip("[]"), int(port)


def _as_bool(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("1", "true", "yes", "on"):
        return True
    if isinstance(value, str) and value.lower() in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"registry setting {key!r} must be true or false, got {value!r}")


def _as_int(key: str, value: Any, minimum: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"registry setting {key!r} must be an integer, got {value!r}") from None
    if isinstance(value, bool) or number < minimum:
        raise ConfigError(f"registry setting {key!r} must be an integer >= {minimum}")
    return number


@dataclass(frozen=True)
class RegistrySettings:
    root: Path = Path("lamina-registry")
    addr: str = "127.0.0.1:5000"
    delete_enabled: bool = True
    delete_referenced: bool = False
    header_timeout_seconds: int = 30
    body_timeout_seconds: int = 60
    max_client_requests: int = 128
    server: str = "granian"
    workers: int = 1
    gc_grace_seconds: int = 1800
    upload_expiry_seconds: int = 86400
    access_log: bool = True
    layer_index_workers: int = 1
    layer_index_on_push: bool = True
    auth: str = "none"
    htpasswd_file: str = ""
    token_service: str = "lamina-registry"
    token_issuer: str = "lamina-registry"
    token_realm: str = ""
    token_expiry_seconds: int = 300
    trust_proxy_headers: bool = False
    login_failures: int = 5
    login_lockout_seconds: int = 60
    audit: bool = True
    tls_cert: str = ""
    tls_key: str = ""
    storage: str = "filesystem"
    s3_endpoint: str = ""
    s3_region: str = "us-east-1"
    s3_bucket: str = ""
    s3_prefix: str = ""
    s3_access_key: str = ""
    s3_secret_key: str = ""
    s3_addressing: str = "path"
    s3_verify_tls: bool = True
    s3_ca_bundle: str = ""
    redirect: bool = False
    redirect_seconds: int = 600
    database: str = ""
    database_pool: int = 8
    migrate_on_start: bool = False
    job_lease_seconds: int = 60
    tag_cache_seconds: int = 60

    @property
    def host(self) -> str:
        return parse_addr(self.addr)[0]

    @property
    def port(self) -> int:
        return parse_addr(self.addr)[1]

    @classmethod
    def from_mapping(cls, values: dict[str, Any], base: RegistrySettings | None = None
                     ) -> RegistrySettings:
        """Apply ``values`` over ``base``, checking each key and type."""
        current = base or cls()
        known = {f.name for f in fields(cls)}
        changes: dict[str, Any] = {}
        for key, value in values.items():
            if key not in known:
                raise ConfigError(
                    f"unknown registry setting {key!r} (known: {', '.join(sorted(known))})"
                )
            if key == "root":
                changes[key] = Path(str(value))
            elif key == "addr":
                parse_addr(str(value))
                changes[key] = str(value)
            elif key in _CHOICES:
                if value not in _CHOICES[key]:
                    raise ConfigError(f"registry {key} must be one of {_CHOICES[key]}, "
                                      f"got {value!r}")
                changes[key] = value
            elif key in _STRINGS:
                changes[key] = str(value)
            elif key in _BOOLS:
                changes[key] = _as_bool(key, value)
            elif key in _POSITIVE:
                changes[key] = _as_int(key, value, 1)
            else:
                changes[key] = _as_int(key, value, 0)
        return replace(current, **changes)

    @classmethod
    def load(cls, config_file: str | os.PathLike[str] | None = None,
             overrides: dict[str, Any] | None = None,
             environ: dict[str, str] | None = None) -> RegistrySettings:
        """Defaults, then the ``[registry]`` table, then the environment, then ``overrides``."""
        env = os.environ if environ is None else environ
        settings = cls.from_mapping(load_table("registry", config_path(config_file)))
        from_env = {
            f.name: env[ENV_PREFIX + f.name.upper()]
            for f in fields(cls)
            if ENV_PREFIX + f.name.upper() in env
        }
        settings = cls.from_mapping(from_env, settings)
        settings = cls.from_mapping(
            {k: v for k, v in (overrides or {}).items() if v is not None}, settings)
        settings.check()
        return settings

    def check(self) -> None:
        """Settings that are valid alone but not together."""
        if self.storage == "s3" and not self.s3_bucket:
            raise ConfigError("registry storage = 's3' needs s3_bucket")
        if self.database and not self.database.startswith(("postgresql://", "postgres://")):
            raise ConfigError(f"registry database must be a postgresql:// URL, got "
                              f"{self.database.split('://')[0]!r}://...")

    def to_json(self) -> str:
        data = asdict(self)
        data["root"] = str(self.root)
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> RegistrySettings:
        return cls.from_mapping(json.loads(text))
