"""Building the registry, and running it on a production ASGI server (granian by default,
or uvicorn).

``build_app`` is the one place the registry is put together: storage, metadata, the
authorizer, the namespace rules, and the HTTP app's extensions (access control, the
scanner) are made here and passed in; nothing changes the Registry after it is built.

Workers are separate processes: each builds its own application from the
settings passed in ``LAMINA_REGISTRY_SETTINGS_JSON``.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from starlette.applications import Starlette

from lamina.config import ConfigError
from lamina.registry.auth.services import AccessServices
from lamina.registry.backends import open_blobs, open_meta
from lamina.registry.binding import check_free
from lamina.registry.http.app import create_app
from lamina.registry.http.scanning import ImageScanner
from lamina.registry.layer_indexes import LayerIndexes
from lamina.registry.policy.enforce import NamespaceRules
from lamina.registry.registry import Registry
from lamina.registry.settings import RegistrySettings
from lamina.scan.image_scanner import AdvisoryScanner, load_settings

SETTINGS_ENV = "LAMINA_REGISTRY_SETTINGS_JSON"
FACTORY = "lamina.registry.server:app_from_environment"


def build_app(settings: RegistrySettings, *, scanner: ImageScanner | None = None) -> Starlette:
    access = AccessServices.open(settings)
    meta = open_meta(settings)
    reg = Registry(settings, open_blobs(settings), meta,
                   authorizer=access.controller if settings.auth != "none" else None,
                   policy=NamespaceRules(access.store, meta))
    # Index jobs are queued on push (issue #16: each pushed layer indexed once, in the
    # background) unless turned off; a scan on push needs them regardless.
    indexes = LayerIndexes(reg, settings.layer_index_workers,
                           on_push=settings.layer_index_on_push
                           or (scanner is not None and scanner.on_push))
    return create_app(reg, access=access, scanner=scanner, layer_indexes=indexes)


def app_from_environment() -> Starlette:
    settings = RegistrySettings.from_json(os.environ[SETTINGS_ENV])
    return build_app(settings, scanner=AdvisoryScanner(load_settings()))


def serve(settings: RegistrySettings) -> None:
    if bool(settings.tls_cert) != bool(settings.tls_key):
        raise ConfigError("tls_cert and tls_key go together: set both to serve HTTPS, or neither")
    check_free(settings.host, settings.port)
    settings.root.mkdir(parents=True, exist_ok=True)
    settings = RegistrySettings.from_mapping({"root": str(settings.root.resolve())}, settings)
    os.environ[SETTINGS_ENV] = settings.to_json()
    Registry.open(settings).close()  # create the layout and schema once, before workers race
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if settings.server == "granian":
        from granian.constants import Interfaces, Loops
        from granian.http import HTTP1Settings
        from granian.server import Server

        # hyper's header read timeout also closes idle keep-alive connections.
        http1 = HTTP1Settings(header_read_timeout=settings.header_timeout_seconds * 1000)
        Server(FACTORY, address=settings.host, port=settings.port, interface=Interfaces.ASGI,
               workers=settings.workers, loop=Loops.uvloop, factory=True,
               log_access=False, http1_settings=http1,
               ssl_cert=Path(settings.tls_cert) if settings.tls_cert else None,
               ssl_key=Path(settings.tls_key) if settings.tls_key else None).serve()
    else:
        import uvicorn

        uvicorn.run(FACTORY, host=settings.host, port=settings.port, factory=True,
                    workers=settings.workers, loop="uvloop", http="httptools",
                    access_log=False, log_level="info",
                    timeout_keep_alive=settings.header_timeout_seconds,
                    ssl_certfile=settings.tls_cert or None, ssl_keyfile=settings.tls_key or None)
