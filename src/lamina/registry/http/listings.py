"""Listings: tags (end-8), ``_catalog``, and referrers (end-12), paginated with ``Link``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lamina.oci import mediatype
from lamina.registry import names
from lamina.registry.access import Action
from lamina.registry.http.common import (
    authorize,
    next_link,
    pagination,
    registry,
    repository_of,
)


async def list_tags(request: Request) -> Response:
    name = repository_of(request)
    await authorize(request, name, Action.PULL)
    limit, last, _ = pagination(request)
    tags = registry(request).tags(name, last, limit + 1) if limit else []
    headers = {}
    if len(tags) > limit:
        tags = tags[:limit]
        headers["Link"] = next_link(f"/v2/{name}/tags/list", limit, tags[-1])
    return JSONResponse({"name": name, "tags": tags}, headers=headers)


async def catalog(request: Request) -> Response:
    principal = await authorize(request, None, Action.CATALOG)
    reg = registry(request)
    limit, last, _ = pagination(request)
    visible: list[str] = []
    cursor = last
    # Filter page by page so that hidden repositories do not shorten a page.
    while limit and len(visible) <= limit:
        batch = reg.meta.repositories(cursor, limit + 1)
        visible += [r for r in batch if reg.authorizer.can_see(principal, r)]
        if len(batch) <= limit:
            break
        cursor = batch[-1]
    headers = {}
    if len(visible) > limit:
        visible = visible[:limit]
        headers["Link"] = next_link("/v2/_catalog", limit, visible[-1])
    return JSONResponse({"repositories": visible}, headers=headers)


async def referrers(request: Request) -> Response:
    name = repository_of(request)
    subject = names.digest(request.path_params["digest"])
    await authorize(request, name, Action.PULL)
    artifact_type = request.query_params.get("artifactType")
    manifests = registry(request).referrers(name, subject, artifact_type)
    headers = {"OCI-Filters-Applied": "artifactType"} if artifact_type is not None else {}
    body = {"schemaVersion": 2, "mediaType": mediatype.OCI_INDEX, "manifests": manifests}
    return JSONResponse(body, headers=headers, media_type=mediatype.OCI_INDEX)


ROUTES = [
    Route("/v2/_catalog", catalog, methods=["GET"]),
    Route("/v2/{name:path}/tags/list", list_tags, methods=["GET"]),
    Route("/v2/{name:path}/referrers/{digest}", referrers, methods=["GET"]),
]
