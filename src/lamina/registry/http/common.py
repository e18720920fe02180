"""What every handler needs: the registry, the caller, and checked request parts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import quote

import anyio
from starlette.requests import ClientDisconnect, Request

from lamina.registry import names
from lamina.registry.access import AccessRequest, Action, Principal
from lamina.registry.errors import BadParameter, RegistryError, SizeInvalid
from lamina.registry.meta.base import Actor
from lamina.registry.numbers import decimal
from lamina.registry.registry import Registry
from lamina.registry.uploads import ClientGone

MAX_PAGE = 10_000


def registry(request: Request) -> Registry:
    reg: Registry = request.app.state.registry
    return reg


def client_address(request: Request) -> str:
    return request.client.host if request.client else ""


async def authorize(request: Request, repository: str | None, *actions: Action) -> Principal:
    """Ask the configured Authorizer (the access-control seam) before acting."""
    return await registry(request).authorizer.authorize(AccessRequest(
        method=request.method, path=request.url.path, headers=request.headers,
        client=client_address(request), repository=repository, actions=frozenset(actions)))


def actor(request: Request, principal: Principal) -> Actor:
    return Actor(client=client_address(request), user=principal.user)


def repository_of(request: Request) -> str:
    return names.repository(request.path_params["name"])


def content_length(request: Request) -> int | None:
    text = request.headers.get("content-length")
    return None if text is None else decimal(text, "Content-Length", SizeInvalid)


async def body_stream(request: Request) -> AsyncIterator[bytes]:
    """The request body as it arrives; ClientGone when the client disconnects mid-way or
    sends nothing for ``body_timeout_seconds`` (a stalled upload keeps what arrived)."""
    timeout = registry(request).settings.body_timeout_seconds
    chunks = request.stream()
    while True:
        try:
            with anyio.fail_after(timeout):
                chunk = await anext(chunks)
        except StopAsyncIteration:
            return
        except ClientDisconnect:
            raise ClientGone(
                f"client went away during {request.method} {request.url.path}") from None
        except TimeoutError:
            raise ClientGone(f"no body bytes for {timeout} s during {request.method} "
                             f"{request.url.path}; closed") from None
        yield chunk


async def read_limited(request: Request, limit: int, error: type[RegistryError],
                       what: str) -> bytes:
    """A body that is not blob data, refused with ``error`` as soon as its declared or
    received size passes ``limit``: nothing over the limit is ever held in memory."""
    declared = content_length(request)
    if declared is not None and declared > limit:
        raise error(f"{what} is {declared} bytes; the limit is {limit}")
    parts: list[bytes] = []
    size = 0
    async for chunk in body_stream(request):
        size += len(chunk)
        if size > limit:
            raise error(f"{what} is over the {limit} byte limit")
        parts.append(chunk)
    return b"".join(parts)


def pagination(request: Request) -> tuple[int, str | None, bool]:
    """(limit, last, n_given) from ``n`` and ``last`` (spec.md "Listing Tags")."""
    n_text = request.query_params.get("n")
    last = request.query_params.get("last") or None
    if n_text is None:
        return MAX_PAGE, last, False
    return min(decimal(n_text, "n", BadParameter), MAX_PAGE), last, True


def next_link(path: str, limit: int, last: str) -> str:
    return f'<{path}?n={limit}&last={quote(last, safe="")}>; rel="next"'
