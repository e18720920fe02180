"""``GET /v2/``: the API version check (spec.md "Determining Support", end-1)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lamina.registry.http.common import authorize

API_VERSION_HEADER = {"Docker-Distribution-API-Version": "registry/2.0"}


async def version_check(request: Request) -> Response:
    await authorize(request, None)
    return JSONResponse({}, headers=API_VERSION_HEADER)


ROUTES = [Route("/v2/", version_check, methods=["GET", "HEAD"])]
