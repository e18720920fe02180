"""Every failure leaves as the spec's JSON error body (spec.md "Error Codes")."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from lamina.registry.errors import RegistryError

log = logging.getLogger("lamina.registry")

_HTTP_CODES = {404: "NAME_UNKNOWN", 405: "UNSUPPORTED", 413: "SIZE_INVALID", 416: "BLOB_UPLOAD_INVALID"}


def error_response(exc: RegistryError) -> Response:
    return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)


async def on_registry_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RegistryError)
    return error_response(exc)


async def on_http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (no route, wrong method) in the spec's shape."""
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, "UNSUPPORTED")
    message = "no such endpoint" if exc.status_code == 404 else str(exc.detail)
    body = {"errors": [{"code": code, "message": message,
                        "detail": {"method": request.method, "path": request.url.path}}]}
    return JSONResponse(body, status_code=exc.status_code, headers=dict(exc.headers or {}))


async def on_client_gone(request: Request, exc: Exception) -> Response:
    """Nobody is left to read an answer; note it and close quietly."""
    log.info("%s", exc)
    return Response(status_code=400)


async def on_unexpected(request: Request, exc: Exception) -> Response:
    """The last resort: a bug of ours. Logged with its traceback; the client gets JSON."""
    log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    body = {"errors": [{"code": "UNKNOWN", "message": "internal error; see the registry log"}]}
    return JSONResponse(body, status_code=500)
