"""What each layer of an image holds, for a registry UI: read from the layer indexes.

``GET /api/v1/repositories/<name>/manifests/<reference>/layers`` (authorised as a pull
of the repository) answers, for each layer of the image manifest, its file listing as
the layer index (registry/layer_indexes.py) records it: the one index every replica
reads, made once per deployment. A layer not indexed yet is indexed now (and kept); no
layer is read again once it is.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lamina.errors import LaminaError
from lamina.layers.layerindex import LayerIndex
from lamina.oci.descriptor import Descriptor
from lamina.oci.manifest import Manifest, parse_manifest
from lamina.registry import names
from lamina.registry.access import Action
from lamina.registry.http.common import authorize, registry, repository_of
from lamina.registry.layer_indexes import LayerIndexes


def _listing(index: LayerIndex) -> list[dict[str, Any]]:
    return [{"path": index.paths[row], "type": index.kind(row), "size": index.sizes[row],
             "mode": index.modes[row], "uid": index.uids[row], "gid": index.gids[row],
             "link": index.links[row]} for row in range(len(index))]


def _layer(indexes: LayerIndexes, desc: Descriptor) -> dict[str, Any]:
    out: dict[str, Any] = {"digest": str(desc.digest), "mediaType": desc.media_type,
                           "size": desc.size}
    try:
        index = indexes.get(desc)
    except (LaminaError, OSError) as exc:  # not a tar: named, the other layers listed
        return {**out, "error": str(exc)}
    return {**out, "files": len(index), "contentSize": index.content_size,
            "osRelease": index.os_release, "members": _listing(index)}


async def layers_endpoint(request: Request) -> Response:
    name = repository_of(request)
    await authorize(request, name, Action.PULL)
    reference = names.lookup_reference(request.path_params["reference"])
    reg = registry(request)
    indexes: LayerIndexes = request.app.state.layer_indexes

    def answer() -> tuple[dict[str, Any], int]:
        record = reg.find_manifest(name, reference)
        parsed = parse_manifest(reg.manifest_body(record), record.media_type)
        if not isinstance(parsed, Manifest):  # as the vulnerability report answers it
            return {"errors": [{"code": "UNSUPPORTED", "message":
                                f"{name}@{record.digest} is an index, not an image manifest:"
                                " ask for one of the manifests it lists"}]}, 400
        return {"repository": name, "digest": str(record.digest),
                "layers": [_layer(indexes, desc) for desc in parsed.layers]}, 200

    doc, status = await asyncio.to_thread(answer)
    return JSONResponse(doc, status_code=status)


ROUTE = Route("/api/v1/repositories/{name:path}/manifests/{reference}/layers",
              layers_endpoint, methods=["GET"])


def install(app: Starlette, indexes: LayerIndexes) -> None:
    """Add the route (before /v2/'s, whose name pattern would take the path)."""
    app.state.layer_indexes = indexes
    app.router.routes.insert(0, ROUTE)
