"""The ASGI application: routes of every API area, error shaping, accounting."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import to_thread
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from lamina.registry.auth.services import AccessServices
from lamina.registry.errors import RegistryError
from lamina.registry.gc import job_handler as gc_job_handler
from lamina.registry.http import base, blobs, health, history, listings, manifests, uploads
from lamina.registry.http.access_control import install as install_access_control
from lamina.registry.http.client_limit import ClientLimit
from lamina.registry.http.errors import (
    on_client_gone,
    on_http_error,
    on_registry_error,
    on_unexpected,
)
from lamina.registry.http.layer_files import install as install_layer_files
from lamina.registry.http.observe import Metrics, Observe, stderr_log
from lamina.registry.http.scanning import ImageScanner
from lamina.registry.http.scanning import install as install_scanning
from lamina.registry.job_runner import Handler, JobRunner, worker_name
from lamina.registry.layer_indexes import LayerIndexes
from lamina.registry.policy.prune import retention_handler
from lamina.registry.registry import Registry
from lamina.registry.uploads import ClientGone

log = logging.getLogger("lamina.registry.jobs")
PROMETHEUS_TYPE = "text/plain; version=0.0.4; charset=utf-8"


async def metrics_endpoint(request: Request) -> Response:
    reg: Registry = request.app.state.registry
    metrics: Metrics = request.app.state.metrics
    indexes: LayerIndexes | None = request.app.state.layer_indexes
    counts = indexes.counts() if indexes is not None else {}
    return PlainTextResponse(metrics.render(reg.meta.stats(), counts),
                             media_type=PROMETHEUS_TYPE)


def create_app(reg: Registry, *, access: AccessServices | None = None,
               scanner: ImageScanner | None = None,
               layer_indexes: LayerIndexes | None = None) -> Starlette:
    """The application over ``reg``. Extensions come in as arguments: ``access`` adds the
    token endpoint, the admin API and the audit trail; ``scanner`` scan on push, the
    vulnerability reports and the pull policy; ``layer_indexes`` the layer indexes the
    scanner and the layer file listing read, made by index jobs this process runs too.
    registry/server.py builds them."""
    # Busiest first (routes are tried in order); upload routes must precede blob routes.
    # No two patterns overlap otherwise: a reference or digest never contains a slash.
    routes: list[BaseRoute] = [
        *manifests.ROUTES, *uploads.ROUTES, *blobs.ROUTES, *base.ROUTES, *listings.ROUTES,
        *history.ROUTES, *health.ROUTES, Route("/metrics", metrics_endpoint, methods=["GET"]),
    ]
    # Background jobs (a queued gc; scan on push, whose handler the scanning extension
    # adds below) run in this process once it serves.
    handlers: dict[str, Handler] = {"gc": gc_job_handler(reg, log.info)}
    runner = JobRunner(reg.meta, handlers, reg.settings.job_lease_seconds,
                       worker=worker_name(reg.settings.addr))

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        runner.start()
        if layer_indexes is not None:
            layer_indexes.start()
        try:
            yield
        finally:
            await to_thread.run_sync(runner.stop)
            if layer_indexes is not None:
                await to_thread.run_sync(layer_indexes.close)

    app = Starlette(
        lifespan=lifespan,
        routes=routes,
        exception_handlers={RegistryError: on_registry_error, HTTPException: on_http_error,
                            ClientGone: on_client_gone, Exception: on_unexpected},
    )
    app.state.registry = reg
    app.state.jobs = runner
    app.state.layer_indexes = layer_indexes
    metrics = Metrics()
    app.state.metrics = metrics
    # Inside Observe, so refusals for too many requests are counted and logged.
    app.add_middleware(ClientLimit, limit=reg.settings.max_client_requests)
    app.add_middleware(Observe, metrics=metrics,
                       access_log=stderr_log() if reg.settings.access_log else None)
    if access is not None:
        install_access_control(app, reg, access)
        handlers["retention"] = retention_handler(reg.meta, access.store, access.audit)
    if layer_indexes is not None:
        # queues index jobs on push unless that is off (LayerIndexes.on_push)
        reg.events.subscribe(layer_indexes.on_event)
        install_layer_files(app, layer_indexes)
    if scanner is not None:
        handlers["scan"] = install_scanning(app, reg, scanner, runner.wake,
                                            layer_indexes).run_job
    return app
