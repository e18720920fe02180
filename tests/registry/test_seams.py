"""The seams access control and scan-on-push plug into: Authorizer and EventBus."""

from __future__ import annotations

import asyncio
from pathlib import Path

from starlette.testclient import TestClient

from lamina.registry.access import AccessRequest, Action, Principal
from lamina.registry.errors import Denied
from lamina.registry.events import Event, ManifestPushed
from lamina.registry.http.app import create_app
from lamina.registry.registry import Registry
from lamina.registry.settings import RegistrySettings
from tests.registry.helpers import error_codes, push_image


class _PushOnlyForAlice:
    async def authorize(self, request: AccessRequest) -> Principal:
        if Action.PUSH in request.actions and request.headers.get("x-user") != "alice":
            raise Denied(f"push to {request.repository} denied")
        return Principal(request.headers.get("x-user"))

    def can_see(self, principal: Principal, repository: str) -> bool:
        return not repository.startswith("secret")


def test_authorizer_is_asked_and_its_user_recorded(tmp_path: Path) -> None:
    reg = Registry(RegistrySettings(root=tmp_path, access_log=False),
                   *_stores(tmp_path), authorizer=_PushOnlyForAlice())
    with TestClient(create_app(reg)) as c:
        r = c.post("/v2/a/blobs/uploads/")
        assert r.status_code == 403 and error_codes(r) == ["DENIED"]
        c.headers["x-user"] = "alice"
        push_image(c, "a", "v1")
        push_image(c, "secret/x", "v1")
        history = c.get("/api/v1/repositories/a/tags/v1/history").json()["history"]
        assert history[0]["user"] == "alice"
        assert c.get("/v2/_catalog").json()["repositories"] == ["a"]


def test_manifest_push_announces_an_event(tmp_path: Path) -> None:
    reg = Registry.open(RegistrySettings(root=tmp_path, access_log=False))
    seen: list[Event] = []

    async def listener(event: Event) -> None:
        await asyncio.sleep(0)
        seen.append(event)

    reg.events.subscribe(listener)
    with TestClient(create_app(reg)) as c:
        digest, _ = push_image(c, "a", "v1")
        c.portal.call(reg.events.drain)  # type: ignore[union-attr]
    assert seen and isinstance(seen[0], ManifestPushed)
    assert (str(seen[0].digest), seen[0].tags, seen[0].repository) == (digest, ("v1",), "a")


def _stores(root: Path):  # type: ignore[no-untyped-def]
    from lamina.registry.meta.sqlite import SqliteMetaStore
    from lamina.registry.storage.filesystem import FilesystemBlobStore

    return FilesystemBlobStore(root), SqliteMetaStore(root / "meta.sqlite3")
