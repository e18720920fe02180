"""A small WSGI app for slim's tests: stdlib server, one pure-Python distribution (certifi).

It reads certifi's package data (its CA bundle) and its installed version
through importlib.metadata, the two things trace-based slimmers break most.
"""

import importlib.metadata
import json
import sys
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

import certifi


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    if environ["PATH_INFO"] == "/health":
        body = b"ok"
    else:
        with open(certifi.where(), "rb") as bundle:
            certs = bundle.read().count(b"BEGIN CERTIFICATE")
        body = json.dumps({"certifi": importlib.metadata.version("certifi"),
                           "certificates": certs}).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]


class Quiet(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


if __name__ == "__main__":
    make_server("127.0.0.1", int(sys.argv[1]), app, handler_class=Quiet).serve_forever()
