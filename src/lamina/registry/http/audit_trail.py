"""ASGI middleware that writes the audit log for pulls (manifest GET), pushes (manifest
PUT, with the tag moves they caused), and deletes (manifests, tags, blobs), whatever
their result: refusals are recorded too. The caller's identity comes from the
authorizer through ``audit.current_caller``."""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lamina.registry.audit import AuditEvent, AuditLog, current_caller
from lamina.registry.auth.forwarded import caller_address
from lamina.registry.registry import Registry

_MANIFEST = re.compile(r"/v2/(?P<name>.+)/manifests/(?P<ref>[^/]+)")
_BLOB = re.compile(r"/v2/(?P<name>.+)/blobs/(?P<ref>[^/]+)")
_ACTIONS = {("GET", "m"): "pull", ("PUT", "m"): "push", ("DELETE", "m"): "delete",
            ("DELETE", "b"): "delete"}


def _classify(method: str, path: str) -> tuple[str, str, str] | None:
    """(action, repository, reference) for the requests the audit log records."""
    for kind, pattern in (("m", _MANIFEST), ("b", _BLOB)):
        m = pattern.fullmatch(path)
        if m and (method, kind) in _ACTIONS and not path.startswith("/v2/_"):
            if kind == "b" and m.group("ref") == "uploads":
                return None
            return _ACTIONS[(method, kind)], m.group("name"), m.group("ref")
    return None


def _result(status: int) -> str:
    if status < 400:
        return "ok"
    if status in (401, 403, 429):
        return "denied"
    return "error" if status >= 500 else "refused"


class AuditTrail:
    def __init__(self, app: ASGIApp, audit: AuditLog, registry: Registry,
                 trust_proxy: bool) -> None:
        self.app = app
        self.audit = audit
        self.registry = registry
        self.trust_proxy = trust_proxy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        what = _classify(scope["method"], scope["path"])
        if what is None:
            await self.app(scope, receive, send)
            return
        holder: list[str | None] = [None]
        reset = current_caller.set(holder)
        started = time.time()
        status = 0
        digest = ""

        async def watching_send(message: Message) -> None:
            nonlocal status, digest
            if message["type"] == "http.response.start":
                status = message["status"]
                for key, value in message.get("headers", ()):
                    if key.lower() == b"docker-content-digest":
                        digest = value.decode("latin-1")
            await send(message)

        try:
            await self.app(scope, receive, watching_send)
        finally:
            current_caller.reset(reset)
            self._record(scope, what, holder[0], status or 500, digest, started)

    def _record(self, scope: Scope, what: tuple[str, str, str], user: str | None, status: int,
                digest: str, started: float) -> None:
        action, repository, reference = what
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", ())}
        peer = scope.get("client")
        client = caller_address(headers, peer[0] if peer else "", self.trust_proxy)
        detail: dict[str, object] = {"status": status}
        if digest and action != "pull":
            detail["digest"] = digest
        self.audit.record(AuditEvent(action, _result(status), user, repository, reference,
                                     client, detail, started))
        if action == "push" and status == 201:
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            tags = ([] if ":" in reference else [reference]) + query.get("tag", [])
            for tag in tags:
                self._tag_move(repository, tag, user, client, started)

    def _tag_move(self, repository: str, tag: str, user: str | None, client: str,
                  started: float) -> None:
        history = self.registry.meta.tag_history(repository, tag)
        if not history:
            return
        last = history[-1]
        if last.old is not None and last.new is not None and last.time >= started - 1:
            self.audit.record(AuditEvent("tag.move", "ok", user, repository, tag, client,
                                         {"old": str(last.old), "new": str(last.new)},
                                         last.time))
