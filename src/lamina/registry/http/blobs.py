"""Blobs: GET/HEAD (with Range) and DELETE ``/v2/<name>/blobs/<digest>`` (end-2, end-10).

Bodies leave through FileResponse, which hands the file to the server
(``http.response.pathsend``, i.e. sendfile under granian) when it can.
"""

from __future__ import annotations

import os

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from lamina.registry import names
from lamina.registry.access import Action
from lamina.registry.errors import BlobUnknown
from lamina.registry.http.common import authorize, registry, repository_of


async def get_blob(request: Request) -> Response:
    name = repository_of(request)
    digest = names.digest(request.path_params["digest"])
    await authorize(request, name, Action.PULL)
    reg = registry(request)
    size, path = reg.blob_for_pull(name, digest)
    headers = {"Docker-Content-Digest": str(digest), "ETag": f'"{digest}"',
               "Cache-Control": "max-age=31536000", "Accept-Ranges": "bytes"}
    if request.method == "HEAD":
        reg.meta.touch_link(name, digest)  # a client about to reuse it: gc's grace starts anew
        # Answered here: no file is opened and no thread is needed for a stat.
        return Response(b"", headers={**headers, "Content-Length": str(size)},
                        media_type="application/octet-stream")
    try:
        stat = os.stat(path) if path is not None else None
    except FileNotFoundError:
        stat = None
    if path is None or stat is None:
        raise BlobUnknown(f"blob {digest} has no local file", detail={"digest": str(digest)})
    return FileResponse(path, headers=headers, media_type="application/octet-stream",
                        stat_result=stat)


async def delete_blob(request: Request) -> Response:
    name = repository_of(request)
    digest = names.digest(request.path_params["digest"])
    await authorize(request, name, Action.DELETE)
    registry(request).delete_blob(name, digest)
    return Response(status_code=202)


ROUTES = [
    Route("/v2/{name:path}/blobs/{digest}", get_blob, methods=["GET", "HEAD"]),
    Route("/v2/{name:path}/blobs/{digest}", delete_blob, methods=["DELETE"]),
]
