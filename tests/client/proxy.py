"""A faulty HTTP proxy in front of a registry: counts requests, cuts or corrupts blob bodies.

Faults apply to ``GET /v2/.../blobs/<digest>`` responses:
- ``cut``: the first such response of each blob sends half its body, then the
  connection is dropped (the client must resume with Range).
- ``flip``: one byte in the middle of every blob body over 4 KiB (layers, not
  configs) is inverted (the client must refuse the blob and store nothing).
``cut_upload`` drops the connection on the first PATCH after half its body.
``flaky`` answers the first request of each path with 503, then 429 (Retry-After: 0),
before forwarding.
"""

from __future__ import annotations

import http.client
import re
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.tools import free_port

_BLOB = re.compile(r"^/v2/.+/blobs/sha256:[a-f0-9]{64}$")
_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"}


class FaultyProxy:
    def __init__(self, upstream_port: int, fault: str = "") -> None:
        self.upstream_port = upstream_port
        self.fault = fault
        self.requests: Counter[tuple[str, str]] = Counter()
        self.ranges: list[str] = []
        self._cut: set[str] = set()
        self._lock = threading.Lock()
        self.port = free_port()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _forward(self) -> None:
                proxy._handle(self)

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def count(self, method: str, kind: str = "") -> int:
        """Requests with ``method`` whose path contains ``kind`` (e.g. "/blobs/sha256:")."""
        return sum(n for (m, p), n in self.requests.items() if m == method and kind in p)

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        path = h.path.split("?", 1)[0]
        with self._lock:
            self.requests[(h.command, path)] += 1
        length = int(h.headers.get("Content-Length") or 0)
        cut_upload = False
        if h.command == "PATCH" and self.fault == "cut_upload":
            with self._lock:
                cut_upload = "upload" not in self._cut
                self._cut.add("upload")
        if cut_upload:
            h.rfile.read(length // 2)
            h.close_connection = True
            h.connection.close()
            return
        body = h.rfile.read(length) if length else None
        if self.fault == "flaky":
            with self._lock:
                seen = self.requests[(h.command, path)]
            if seen <= 2:
                h.send_response(503 if seen == 1 else 429)
                h.send_header("Retry-After", "0")
                h.send_header("Content-Length", "0")
                h.end_headers()
                return
        upstream = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=60)
        headers = {k: v for k, v in h.headers.items() if k.lower() not in _HOP}
        if "Range" in headers:
            self.ranges.append(headers["Range"])
        upstream.request(h.command, h.path, body=body, headers=headers)
        response = upstream.getresponse()
        blob_get = h.command == "GET" and _BLOB.match(path) is not None and \
            response.status in (200, 206)
        h.send_response(response.status)
        for key, value in response.getheaders():
            if key.lower() not in _HOP:
                h.send_header(key, value)
        h.end_headers()
        if h.command == "HEAD":
            upstream.close()
            return
        data = response.read()
        upstream.close()
        if blob_get and self.fault == "cut" and len(data) > 1:
            with self._lock:
                first = path not in self._cut
                self._cut.add(path)
            if first:
                h.wfile.write(data[: len(data) // 2])
                h.wfile.flush()
                h.close_connection = True
                h.connection.shutdown(2)
                return
        if blob_get and self.fault == "flip" and len(data) > 4096:
            middle = len(data) // 2
            data = data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1:]
        h.wfile.write(data)

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
