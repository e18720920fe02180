"""``GET /api/v1/repositories/<name>/tags/<tag>/history``: every move of a tag."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lamina.registry import names
from lamina.registry.access import Action
from lamina.registry.http.common import authorize, registry, repository_of
from lamina.registry.meta.base import TagMove


def move_to_json(move: TagMove) -> dict[str, object]:
    return {"repository": move.repository, "tag": move.tag,
            "old": str(move.old) if move.old else None,
            "new": str(move.new) if move.new else None,
            "time": move.time, "client": move.client, "user": move.user}


async def tag_history(request: Request) -> Response:
    name = repository_of(request)
    tag = names.tag(request.path_params["tag"])
    await authorize(request, name, Action.PULL)
    moves = registry(request).tag_history(name, tag)
    return JSONResponse({"repository": name, "tag": tag,
                         "history": [move_to_json(m) for m in moves]})


ROUTES = [Route("/api/v1/repositories/{name:path}/tags/{tag}/history", tag_history,
                methods=["GET"])]
