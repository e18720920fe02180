"""`--pull=missing|always|never`: the resolver `run` and `build` (FROM) use.

Source: the deck, "Docker will not check with the registry if it already has an
image with a certain tag locally"; ARCHITECTURE.md (same meaning on build and run).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lamina.cli.store import open_store
from lamina.client.resolve import ensure_image
from lamina.client.session import Session
from lamina.errors import LaminaError, NotFound
from tests.client.images import layer_tar, make_image
from tests.client.proxy import FaultyProxy
from tests.client.registries import Distribution
from tests.tools import lamina


@pytest.fixture
def proxy(registry: Distribution) -> Iterator[FaultyProxy]:
    p = FaultyProxy(registry.port)
    yield p
    p.stop()


def _publish(name: str, size: int = 1000) -> str:
    """Push a fresh image as ``name`` from a scratch store; returns its manifest digest."""
    store = open_store()
    image = make_image(store, name, [layer_tar("x", size)])
    assert lamina("push", "-q", name).exit_code == 0
    store.remove(name, force=True)
    return str(image.manifest_digest)


@pytest.mark.integration
def test_missing_uses_a_local_tag_without_asking(proxy: FaultyProxy) -> None:
    name = f"{proxy.host}/demo/app:1"
    make_image(open_store(), name, [layer_tar("x", 1000)])
    before = sum(proxy.requests.values())
    image = ensure_image(open_store(), name, "missing")
    assert str(image.tags[0]) == name
    assert sum(proxy.requests.values()) == before  # the registry was not asked


@pytest.mark.integration
def test_missing_pulls_an_absent_image(proxy: FaultyProxy) -> None:
    name = f"{proxy.host}/demo/app:2"
    digest = _publish(name)
    image = ensure_image(open_store(), name, "missing")
    assert str(image.manifest_digest) == digest
    assert proxy.count("GET", "/manifests/") == 1


@pytest.mark.integration
def test_always_asks_and_downloads_only_a_changed_digest(proxy: FaultyProxy) -> None:
    name = f"{proxy.host}/demo/app:3"
    first = _publish(name)
    store = open_store()
    with Session() as session:
        assert str(ensure_image(store, name, "always", session=session).manifest_digest) == first
        blobs = proxy.count("GET", "/blobs/")
        same = ensure_image(store, name, "always", session=session)
        assert str(same.manifest_digest) == first
        assert proxy.count("GET", "/blobs/") == blobs  # unchanged: no blob fetched
        assert proxy.count("GET", "/manifests/") == 2
    tag_moved = _publish_new_version(name)
    assert str(open_store().resolve(name).manifest_digest) == first
    changed = ensure_image(open_store(), name, "always")
    assert str(changed.manifest_digest) == tag_moved


def _publish_new_version(name: str) -> str:
    """Move the registry's tag to a new image; the local tag stays on the old one."""
    store = open_store()
    old = store.resolve(name)
    image = make_image(store, name, [layer_tar("y", 2000)])
    assert lamina("push", "-q", name).exit_code == 0
    store.tag(str(old.id), name)
    return str(image.manifest_digest)


@pytest.mark.integration
def test_never_uses_local_or_fails_clearly(proxy: FaultyProxy) -> None:
    name = f"{proxy.host}/demo/app:4"
    _publish(name)
    with pytest.raises(NotFound, match="--pull=never"):
        ensure_image(open_store(), name, "never")
    assert proxy.count("GET", "/manifests/") == 0
    make_image(open_store(), name, [layer_tar("x", 10)])
    assert ensure_image(open_store(), name, "never").tags


def test_bad_policy_is_refused() -> None:
    with pytest.raises(LaminaError, match="invalid pull policy 'sometimes'"):
        ensure_image(open_store(), "busybox", "sometimes")  # type: ignore[arg-type]
