"""Probes for load balancers and orchestrators: ``/healthz`` (the process answers) and
``/readyz`` (the database and the blob store answer too). Neither needs credentials."""

from __future__ import annotations

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lamina.registry.errors import StorageUnavailable
from lamina.registry.http.common import registry


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    reg = registry(request)
    checks: dict[str, str] = {}
    for name, ping in (("database", reg.meta.ping), ("blobs", reg.blobs.ping)):
        try:
            await to_thread.run_sync(ping)
            checks[name] = "ok"
        except StorageUnavailable as exc:
            checks[name] = exc.message
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ok" if ready else "unavailable", "checks": checks},
                        status_code=200 if ready else 503,
                        headers={} if ready else {"Retry-After": "5"})


ROUTES = [Route("/healthz", healthz, methods=["GET", "HEAD"]),
          Route("/readyz", readyz, methods=["GET", "HEAD"])]
