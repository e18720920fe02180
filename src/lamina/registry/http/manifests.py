"""Manifests: GET/HEAD/PUT/DELETE ``/v2/<name>/manifests/<reference>`` (end-3, end-7, end-9)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lamina.oci import mediatype
from lamina.oci.manifest import MAX_MANIFEST_SIZE
from lamina.registry import names
from lamina.registry.access import Action
from lamina.registry.errors import ManifestTooLarge, ManifestUnknown
from lamina.registry.http.common import (
    actor,
    authorize,
    read_limited,
    registry,
    repository_of,
)
from lamina.registry.manifests import bare_media_type


def _accepts(request: Request, media_type: str) -> bool:
    """Whether the client's Accept list allows ``media_type``.

    A client that names no manifest type at all (or */*) takes what is stored;
    one that lists manifest types gets only those (content-negotiation.md).
    """
    accept = request.headers.getlist("accept")
    wanted = {bare_media_type(part) for header in accept for part in header.split(",")}
    if not wanted & (mediatype.MANIFESTS | {"*/*", "application/*"}):
        return True
    return media_type in wanted or "*/*" in wanted or "application/*" in wanted


async def get_manifest(request: Request) -> Response:
    name = repository_of(request)
    reference = names.lookup_reference(request.path_params["reference"])
    await authorize(request, name, Action.PULL)
    reg = registry(request)
    record = reg.find_manifest(name, reference)
    if not _accepts(request, record.media_type):
        raise ManifestUnknown(
            f"manifest {reference} is a {record.media_type}, which the request's Accept "
            "header does not allow", detail={"mediaType": record.media_type})
    headers = {"Docker-Content-Digest": str(record.digest), "Content-Length": str(record.size),
               "ETag": f'"{record.digest}"'}
    if request.method == "HEAD":
        return Response(b"", headers=headers, media_type=record.media_type)
    return Response(reg.manifest_body(record), headers=headers, media_type=record.media_type)


async def put_manifest(request: Request) -> Response:
    name = repository_of(request)
    reference = names.reference(request.path_params["reference"])
    extra_tags = [names.tag(t) for t in request.query_params.getlist("tag")]
    principal = await authorize(request, name, Action.PUSH)
    body = await read_limited(request, MAX_MANIFEST_SIZE, ManifestTooLarge, "manifest")
    pushed = await registry(request).put_manifest(
        name, reference, body, request.headers.get("content-type"), extra_tags,
        actor(request, principal))
    headers = {"Location": f"/v2/{name}/manifests/{pushed.record.digest}",
               "Docker-Content-Digest": str(pushed.record.digest)}
    if pushed.record.subject is not None:
        headers["OCI-Subject"] = str(pushed.record.subject)
    response = Response(status_code=201, headers=headers)
    if extra_tags:
        response.headers["OCI-Tag"] = ", ".join(extra_tags)
    return response


async def delete_manifest(request: Request) -> Response:
    name = repository_of(request)
    reference = names.reference(request.path_params["reference"])
    principal = await authorize(request, name, Action.DELETE)
    warnings = await registry(request).delete_manifest(name, reference,
                                                       actor(request, principal))
    response = Response(status_code=202)
    for text in warnings:  # spec.md "Warnings": code 299, agent "-"
        response.headers.append("Warning", f'299 - "{text}"')
    return response


ROUTES = [
    Route("/v2/{name:path}/manifests/{reference}", get_manifest, methods=["GET", "HEAD"]),
    Route("/v2/{name:path}/manifests/{reference}", put_manifest, methods=["PUT"]),
    Route("/v2/{name:path}/manifests/{reference}", delete_manifest, methods=["DELETE"]),
]
