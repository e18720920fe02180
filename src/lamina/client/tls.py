"""The TLS context registry clients use: httpx's default trust, loaded on first use.

httpx builds its default context when a client is made, loading a CA bundle
(SSL_CERT_FILE, SSL_CERT_DIR, else certifi's): about 250 million instructions,
a fifth of ``lamina pull``'s start-up, spent even for a plain-HTTP registry
(loopback, or one listed as insecure) that never opens a TLS connection. This
context is the same one (the TLS client protocol: certificates and host names
checked; the same CA sources, SSLKEYLOGFILE honoured) with the bundle loaded
just before its first TLS connection, which therefore never goes unverified.
"""

from __future__ import annotations

import os
import ssl
import sys
import threading
from typing import Any


class LazyTrust(ssl.SSLContext):
    """An ``ssl.SSLContext`` that loads its CA certificates before the first TLS session."""

    _trusted = False
    _lock = threading.Lock()

    def _trust(self) -> None:
        with self._lock:
            if self._trusted:
                return
            if os.environ.get("SSL_CERT_FILE"):  # as httpx.create_ssl_context
                self.load_verify_locations(cafile=os.environ["SSL_CERT_FILE"])
            elif os.environ.get("SSL_CERT_DIR"):
                self.load_verify_locations(capath=os.environ["SSL_CERT_DIR"])
            else:
                import certifi

                self.load_verify_locations(cafile=certifi.where())
            self._trusted = True

    def wrap_socket(self, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        self._trust()
        return super().wrap_socket(*args, **kwargs)

    def wrap_bio(self, *args: Any, **kwargs: Any) -> ssl.SSLObject:
        self._trust()  # TLS inside TLS (an HTTPS proxy) goes through here
        return super().wrap_bio(*args, **kwargs)


def lazy_trust() -> LazyTrust:
    """A new context, configured as ``ssl.create_default_context()`` configures one."""
    context = LazyTrust(ssl.PROTOCOL_TLS_CLIENT)  # verifies certificates and host names
    keylog = os.environ.get("SSLKEYLOGFILE")
    if keylog and not sys.flags.ignore_environment:
        context.keylog_filename = keylog
    return context
