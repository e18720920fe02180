"""A bound on requests in flight per client address (per worker).

An ASGI application never sees idle connections, so what is bounded is what a
client makes the server work on at once: HTTP/1.1 has one request per connection
in flight, so this counts the client's busy connections. Over the bound the
answer is 429 TOOMANYREQUESTS with Retry-After, and nothing is read of the body.
"""

from __future__ import annotations

from collections import Counter

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send


class ClientLimit:
    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit  # 0: no limit
        self.active: Counter[str] = Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.limit:
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        host = str(client[0]) if client else ""
        if self.active[host] >= self.limit:
            body = {"errors": [{"code": "TOOMANYREQUESTS",
                                "message": f"more than {self.limit} requests in flight from "
                                           f"{host}; retry when some have finished"}]}
            await JSONResponse(body, status_code=429, headers={"Retry-After": "1"})(
                scope, receive, send)
            return
        self.active[host] += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.active[host] -= 1
            if not self.active[host]:
                del self.active[host]
