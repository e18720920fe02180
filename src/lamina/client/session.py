"""Opening connections to registries with the credentials and settings in effect."""

from __future__ import annotations

import threading

from lamina.client.credentials import Credential, DockerConfig
from lamina.client.settings import ClientSettings
from lamina.client.transport import RegistryClient, is_insecure


class Session:
    """One RegistryClient per registry (so tokens and connections are reused)."""

    def __init__(self, settings: ClientSettings | None = None, *, insecure: bool = False,
                 docker_config: DockerConfig | None = None) -> None:
        self.settings = settings or ClientSettings.load()
        self.insecure = insecure
        self.docker_config = docker_config or DockerConfig()
        self._clients: dict[str, RegistryClient] = {}
        self._lock = threading.Lock()

    def credential(self, registry: str) -> Credential | None:
        return self.docker_config.get(registry)

    def client(self, registry: str) -> RegistryClient:
        with self._lock:
            found = self._clients.get(registry)
            if found is None:
                found = RegistryClient(
                    registry, credential=self.credential(registry),
                    insecure=self.insecure or is_insecure(registry,
                                                          self.settings.insecure_registries))
                self._clients[registry] = found
            return found

    def mirrors(self, registry: str) -> list[RegistryClient]:
        """Mirror clients to try before ``registry`` (only for the default registry)."""
        if registry != self.settings.default_registry:
            return []
        out = []
        for mirror in self.settings.mirrors:
            key = f"mirror:{mirror}"
            with self._lock:
                found = self._clients.get(key)
                if found is None:
                    host = mirror.split("://", 1)[-1].rstrip("/")
                    insecure = mirror.startswith("http://") or is_insecure(
                        host, self.settings.insecure_registries)
                    found = RegistryClient(host, insecure=insecure,
                                           credential=self.credential(host))
                    self._clients[key] = found
            out.append(found)
        return out

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
