"""Blob uploads (spec.md "Push"): POST to start, mount or push whole (end-4, end-11);
PATCH chunks (end-5); PUT to close (end-6); GET status (end-13); DELETE cancel (end-14)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lamina.oci.digest import Digest
from lamina.registry import names
from lamina.registry.access import Action
from lamina.registry.errors import DigestInvalid, RegistryError
from lamina.registry.http.common import (
    authorize,
    body_stream,
    content_length,
    registry,
    repository_of,
)
from lamina.registry.uploads import Chunk, parse_content_range


def _progress_headers(name: str, session: str, size: int) -> dict[str, str]:
    return {"Location": f"/v2/{name}/blobs/uploads/{session}",
            "Range": f"0-{max(size - 1, 0)}", "Docker-Upload-UUID": session}


def _created(name: str, digest: Digest) -> Response:
    return Response(status_code=201, headers={"Location": f"/v2/{name}/blobs/{digest}",
                                              "Docker-Content-Digest": str(digest)})


def _chunk(request: Request) -> Chunk:
    span = parse_content_range(request.headers.get("content-range"))
    length = content_length(request)
    if span is None:
        return Chunk(length=length)
    return Chunk(span[0], span[1], length)


async def start_upload(request: Request) -> Response:
    name = repository_of(request)
    params = request.query_params
    await authorize(request, name, Action.PULL, Action.PUSH)
    reg = registry(request)
    reg.policy.check_upload(name)  # a namespace at its quota takes no more blobs
    mount, source = params.get("mount"), params.get("from")
    if mount is not None and source is not None:
        digest = names.digest(mount)
        source = names.repository(source)
        try:
            await authorize(request, source, Action.PULL)
            if reg.mount(name, digest, source):
                return _created(name, digest)
        except RegistryError:
            pass  # not mountable for this caller: fall back to an upload (spec: 202)
    algorithm = params.get("digest-algorithm", "sha256")
    whole = params.get("digest")
    expected = names.digest(whole) if whole is not None else None
    record = reg.uploads.start(name, expected.algorithm if expected else algorithm)
    if expected is not None:
        # Single POST (spec.md "Single POST"): the body is the whole blob.
        await reg.uploads.finish(name, record.session, expected, _chunk(request),
                                 body_stream(request))
        return _created(name, expected)
    return Response(status_code=202, headers=_progress_headers(name, record.session, 0))


async def upload_status(request: Request) -> Response:
    name = repository_of(request)
    session = names.session(request.path_params["session"])
    await authorize(request, name, Action.PUSH)
    _, size = registry(request).uploads.status(name, session)
    return Response(status_code=204, headers=_progress_headers(name, session, size))


async def patch_upload(request: Request) -> Response:
    name = repository_of(request)
    session = names.session(request.path_params["session"])
    await authorize(request, name, Action.PUSH)
    size = await registry(request).uploads.append(name, session, _chunk(request),
                                                  body_stream(request))
    return Response(status_code=202, headers=_progress_headers(name, session, size))


async def finish_upload(request: Request) -> Response:
    name = repository_of(request)
    session = names.session(request.path_params["session"])
    await authorize(request, name, Action.PUSH)
    text = request.query_params.get("digest")
    if text is None:
        raise DigestInvalid("closing PUT needs ?digest=<digest> of the whole blob")
    digest = names.digest(text)
    await registry(request).uploads.finish(name, session, digest, _chunk(request),
                                           body_stream(request))
    return _created(name, digest)


async def cancel_upload(request: Request) -> Response:
    name = repository_of(request)
    session = names.session(request.path_params["session"])
    await authorize(request, name, Action.PUSH)
    registry(request).uploads.cancel(name, session)
    return Response(status_code=204)


ROUTES = [
    Route("/v2/{name:path}/blobs/uploads/", start_upload, methods=["POST"]),
    Route("/v2/{name:path}/blobs/uploads/{session}", upload_status, methods=["GET", "HEAD"]),
    Route("/v2/{name:path}/blobs/uploads/{session}", patch_upload, methods=["PATCH"]),
    Route("/v2/{name:path}/blobs/uploads/{session}", finish_upload, methods=["PUT"]),
    Route("/v2/{name:path}/blobs/uploads/{session}", cancel_upload, methods=["DELETE"]),
]
