"""Request accounting: Prometheus counters and a JSON-lines access log, as ASGI middleware."""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from typing import TextIO

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lamina.registry.meta.base import Stats


def route_of(path: str) -> str:
    """A low-cardinality label for a path (repository names never become labels)."""
    if path in ("/v2/", "/v2"):
        return "base"
    if path == "/v2/_catalog":
        return "catalog"
    if path.startswith("/v2/"):
        for marker, label in (("/blobs/uploads/", "uploads"), ("/manifests/", "manifests"),
                              ("/blobs/", "blobs"), ("/tags/list", "tags"),
                              ("/referrers/", "referrers")):
            if marker in path:
                return label
        return "other"
    if path.startswith("/api/v1/"):
        return "api"
    if path == "/metrics":
        return "metrics"
    return "other"


class Metrics:
    """Counters of this process (each worker keeps its own; sum them when scraping)."""

    def __init__(self) -> None:
        self.requests: Counter[tuple[str, str, int]] = Counter()
        self.bytes_in: Counter[str] = Counter()
        self.bytes_out: Counter[str] = Counter()

    def observe(self, route: str, method: str, status: int, received: int, sent: int) -> None:
        self.requests[(route, method, status)] += 1
        self.bytes_in[route] += received
        self.bytes_out[route] += sent

    def render(self, stats: Stats, layer_indexes: dict[str, int] | None = None) -> str:
        """The Prometheus text; ``layer_indexes``: LayerIndexes.counts() of this process."""
        lines = [
            "# HELP lamina_registry_requests_total HTTP requests by route, method and status.",
            "# TYPE lamina_registry_requests_total counter",
        ]
        for (route, method, status), count in sorted(self.requests.items()):
            lines.append(f'lamina_registry_requests_total{{route="{route}",method="{method}",'
                         f'status="{status}"}} {count}')
        for name, counter, text in (
                ("bytes_received_total", self.bytes_in, "Request body bytes by route."),
                ("bytes_sent_total", self.bytes_out, "Response body bytes by route.")):
            lines += [f"# HELP lamina_registry_{name} {text}",
                      f"# TYPE lamina_registry_{name} counter"]
            lines += [f'lamina_registry_{name}{{route="{route}"}} {value}'
                      for route, value in sorted(counter.items())]
        for name, value, text in (
                ("repositories", stats.repositories, "Repositories."),
                ("blobs", stats.blobs, "Blobs stored (each once)."),
                ("stored_bytes", stats.stored_bytes, "Bytes of blobs stored."),
                ("linked_bytes", stats.linked_bytes, "Bytes of blobs summed over repositories."),
                ("dedup_saved_bytes", stats.dedup_saved_bytes,
                 "Bytes not stored thanks to sharing blobs across repositories."),
                ("jobs_pending", stats.pending_jobs,
                 "Background jobs (layer indexes, scans, gc) queued or running, all replicas.")):
            lines += [f"# HELP lamina_registry_{name} {text}",
                      f"# TYPE lamina_registry_{name} gauge", f"lamina_registry_{name} {value}"]
        counts = layer_indexes or {}
        for key, text in (
                ("blob_reads", "Layer blobs this process read to index them."),
                ("stored_reads", "Layer indexes this process read from storage.")):
            if key in counts:
                name = f"lamina_registry_layer_index_{key}_total"
                lines += [f"# HELP {name} {text}", f"# TYPE {name} counter",
                          f"{name} {counts[key]}"]
        return "\n".join(lines) + "\n"


class Observe:
    def __init__(self, app: ASGIApp, metrics: Metrics, access_log: TextIO | None) -> None:
        self.app = app
        self.metrics = metrics
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0
        received = 0
        sent = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
            return message

        async def counting_send(message: Message) -> None:
            nonlocal status, sent
            kind = message["type"]
            if kind == "http.response.start":
                status = message["status"]
                if scope["method"] != "HEAD":
                    for key, value in message.get("headers", ()):
                        if key.lower() == b"content-length":
                            sent = int(value)  # counts pathsend bodies too
            await send(message)

        try:
            await self.app(scope, counting_receive, counting_send)
        finally:
            path = scope["path"]
            route = route_of(path)
            self.metrics.observe(route, scope["method"], status or 500, received, sent)
            if self.access_log is not None:
                client = scope.get("client")
                headers = dict(scope.get("headers", ()))
                self.access_log.write(json.dumps({
                    "time": round(time.time(), 3), "client": client[0] if client else "",
                    "method": scope["method"], "path": path, "route": route,
                    "status": status or 500, "bytes_in": received, "bytes_out": sent,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                    "user_agent": headers.get(b"user-agent", b"").decode("latin-1"),
                }) + "\n")


def stderr_log() -> TextIO:
    return sys.stderr
