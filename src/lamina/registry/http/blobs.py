"""Blobs: GET/HEAD (with Range) and DELETE ``/v2/<name>/blobs/<digest>`` (end-2, end-10).

Bodies leave through FileResponse, which hands the file to the server
(``http.response.pathsend``, i.e. sendfile under granian) when it can. Blobs in object
storage are streamed from it (Range passed on), or, with ``redirect``, the client gets
307 to a presigned URL and fetches (and ranges) there.
"""

from __future__ import annotations

import os
from pathlib import Path

from anyio import to_thread
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from lamina.oci.digest import Digest
from lamina.registry import names
from lamina.registry.access import Action
from lamina.registry.byteranges import parse_range
from lamina.registry.errors import BlobUnknown
from lamina.registry.http.common import authorize, registry, repository_of
from lamina.registry.registry import Registry


def _locate(reg: Registry, name: str, digest: Digest, head: bool
            ) -> tuple[int, tuple[Path, os.stat_result] | None]:
    """The blob's size and, for a GET of a local file, the file and its stat. SQLite
    and the disk: run in a worker thread, never on the event loop."""
    size, path = reg.blob_for_pull(name, digest)
    if head:
        reg.meta.touch_link(name, digest)  # a client about to reuse it: gc's grace starts anew
        return size, None
    if path is None:
        return size, None  # in object storage
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        raise BlobUnknown(f"blob {digest} has no local file",
                          detail={"digest": str(digest)}) from None
    return size, (path, stat)


async def get_blob(request: Request) -> Response:
    name = repository_of(request)
    digest = names.digest(request.path_params["digest"])
    await authorize(request, name, Action.PULL)
    head = request.method == "HEAD"
    size, file = await run_in_threadpool(_locate, registry(request), name, digest, head)
    headers = {"Docker-Content-Digest": str(digest), "ETag": f'"{digest}"',
               "Cache-Control": "max-age=31536000", "Accept-Ranges": "bytes"}
    if head:
        return Response(b"", headers={**headers, "Content-Length": str(size)},
                        media_type="application/octet-stream")
    if file is None:
        return await _from_object_store(request, digest, size, headers)
    return FileResponse(file[0], headers=headers, media_type="application/octet-stream",
                        stat_result=file[1])


async def _from_object_store(request: Request, digest: Digest, size: int,
                             headers: dict[str, str]) -> Response:
    reg = registry(request)
    if reg.settings.redirect:
        url = await to_thread.run_sync(reg.blobs.presign, digest)
        if url is not None:
            return RedirectResponse(url, status_code=307, headers=headers)
    span = parse_range(request.headers.get("range"), size)
    first, last = span if span is not None else (0, size - 1)
    if span is not None:
        headers = {**headers, "Content-Range": f"bytes {first}-{last}/{size}"}
    headers["Content-Length"] = str(last - first + 1)
    blocks = reg.blobs.stream(digest, first, last) if size else iter(())
    return StreamingResponse(iterate_in_threadpool(blocks), status_code=206 if span else 200,
                             headers=headers, media_type="application/octet-stream")


async def delete_blob(request: Request) -> Response:
    name = repository_of(request)
    digest = names.digest(request.path_params["digest"])
    await authorize(request, name, Action.DELETE)
    await run_in_threadpool(registry(request).delete_blob, name, digest)
    return Response(status_code=202)


ROUTES = [
    Route("/v2/{name:path}/blobs/{digest}", get_blob, methods=["GET", "HEAD"]),
    Route("/v2/{name:path}/blobs/{digest}", delete_blob, methods=["DELETE"]),
]
