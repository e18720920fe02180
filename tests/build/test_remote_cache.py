"""--cache-to / --cache-from (docker buildx build's remote cache): the CI case, where every
build starts from an empty store and the cache travels through a registry or a directory."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from lamina.store.layer_index import stored_index
from tests.build.twin import load_into_lamina, store, write_context
from tests.client.registries import start_distribution, start_lamina_registry
from tests.tools import lamina

pytestmark = pytest.mark.integration

DOCKERFILE = (
    "FROM {base}\n"
    "COPY a.txt /a\n"
    "RUN cat /a > /b && echo RAN-STEP-$((1+2))\n"
    "COPY b.txt /c\n"
    "RUN cat /c > /d && echo RAN-STEP-$((2+3))\n"
)


@pytest.fixture(params=["docker-registry", "lamina-registry"])
def registry_host(request: pytest.FixtureRequest, tmp_path: Path,
                  monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    docker_config = tmp_path / "docker-config"
    docker_config.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(docker_config))
    start = start_distribution if request.param == "docker-registry" else start_lamina_registry
    server = start(tmp_path / "registry")
    yield server.host
    server.stop()


def _fresh_home(tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch, docker: str,
                base: str, archives: Path) -> None:
    home = tmp_path / name
    home.mkdir()
    monkeypatch.setenv("LAMINA_HOME", str(home))
    load_into_lamina(docker, base, archives)


def _build(*args: str | Path) -> str:
    """The build's progress: BuildKit's plain lines, on stderr."""
    result = lamina("build", *args)
    assert result.exit_code == 0, result.stdout + result.stderr
    return result.stderr


def _cached(progress: str) -> int:
    return len(re.findall(r"^#\d+ CACHED$", progress, re.M))


def test_registry_cache_from_an_empty_store(busybox_base: str, docker: str, archives: Path,
                                           tmp_path: Path, registry_host: str,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": DOCKERFILE.format(base=busybox_base),
                                           "a.txt": "one\n", "b.txt": "two\n"})
    ref = f"{registry_host}/ci/app:buildcache"
    first = _build("-t", "app:1", "--cache-to", f"type=registry,ref={ref},mode=max", ctx)
    assert "RAN-STEP-3" in first and "RAN-STEP-5" in first
    built = store().resolve("app:1").id

    _fresh_home(tmp_path, "home-2", monkeypatch, docker, busybox_base, archives)
    second = _build("-t", "app:1", "--cache-from", f"type=registry,ref={ref}", ctx)
    assert _cached(second) == 4, second
    assert "RAN-STEP-3" not in second and "RAN-STEP-5" not in second
    fetched = store().resolve("app:1")
    assert fetched.id == built
    for layer in fetched.layers:  # the cache's layers came in indexed, as a pull brings them
        assert stored_index(store(), layer.diff_id) is not None
        assert store().layer_record(layer.diff_id) is not None

    (ctx / "b.txt").write_text("changed\n")
    _fresh_home(tmp_path, "home-3", monkeypatch, docker, busybox_base, archives)
    third = _build("-t", "app:2", "--cache-from", f"type=registry,ref={ref}", ctx)
    assert _cached(third) == 2, third  # COPY a.txt and the RUN after it
    assert "RAN-STEP-3" not in third and "RAN-STEP-5" in third


def test_local_cache_and_mode_min(busybox_base: str, docker: str, archives: Path,
                                  tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """type=local,dest=DIR writes an OCI layout; mode=min keeps only the result's stage."""
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": (
        f"FROM {busybox_base} AS tools\nRUN echo RAN-TOOLS-$((7)) > /t && cat /t\n"
        f"FROM {busybox_base}\nCOPY --from=tools /t /t\nRUN echo RAN-FINAL-$((8)) > /f && cat /f\n")})
    cache = tmp_path / "cache"
    _build("-t", "m:1", "--cache-to", f"type=local,dest={cache}", ctx)
    assert (cache / "index.json").is_file() and (cache / "oci-layout").is_file()
    _fresh_home(tmp_path, "home-2", monkeypatch, docker, busybox_base, archives)
    again = _build("-t", "m:1", "--cache-from", f"type=local,src={cache}", ctx)
    assert "RAN-TOOLS-7" in again  # the tools stage was not exported (mode=min)
    assert "RAN-FINAL-8" in again  # COPY --from a re-run stage: its file is new, so is the key


def test_bad_cache_sources_are_refused(busybox_base: str, tmp_path: Path,
                                       registry_host: str) -> None:
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": f"FROM {busybox_base}\nRUN true\n"})
    missing = lamina("build", "-t", "bad:1", "--cache-from",
                     f"type=registry,ref={registry_host}/ci/none:cache", ctx)
    assert missing.exit_code == 1 and "no cache there" in missing.stderr
    _build("-t", f"{registry_host}/ci/image:1", "--push", ctx)
    not_cache = lamina("build", "-t", "bad:1", "--cache-from",
                       f"type=registry,ref={registry_host}/ci/image:1", ctx)
    assert not_cache.exit_code == 1 and "not a build cache" in not_cache.stderr
    unknown = lamina("build", "--cache-to", "type=gha", ctx)
    assert unknown.exit_code == 1 and "type 'gha' is not supported" in unknown.stderr
    inline_from = lamina("build", "--cache-from", "type=inline", ctx)
    assert inline_from.exit_code == 1 and "registry,ref=IMAGE" in inline_from.stderr
    inline_max = lamina("build", "--cache-to", "type=inline,mode=max", ctx)
    assert inline_max.exit_code == 1 and "mode=min only" in inline_max.stderr
    assert "bad:1" not in str(store().meta.read().tags)


def test_inline_cache_travels_with_the_pushed_image(busybox_base: str, docker: str,
                                                     archives: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """--cache-to type=inline writes the cache into the image config
    (``moby.buildkit.cache.v0``, as BuildKit's inline exporter); a build from an empty store
    given that image as --cache-from reuses its steps and downloads their layers."""
    docker_config = tmp_path / "docker-config"
    docker_config.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(docker_config))
    server = start_lamina_registry(tmp_path / "registry")
    try:
        ctx = write_context(tmp_path / "ctx", {"Dockerfile": DOCKERFILE.format(base=busybox_base),
                                               "a.txt": "one\n", "b.txt": "two\n"})
        ref = f"{server.host}/ci/inline:1"
        first = _build("-t", ref, "--cache-to", "type=inline", "--push", ctx)
        assert "RAN-STEP-3" in first and "RAN-STEP-5" in first
        pushed = store().resolve(ref)
        doc = json.loads(store().blobs.read_bytes(pushed.id))
        cache = json.loads(base64.b64decode(doc["moby.buildkit.cache.v0"]))
        assert len(cache["layers"]) == len(doc["rootfs"]["diff_ids"])
        assert len(cache["records"]) == 4  # the four steps after FROM

        _fresh_home(tmp_path, "home-2", monkeypatch, docker, busybox_base, archives)
        second = _build("--progress", "plain", "-t", "app:2", "--cache-from",
                        f"type=registry,ref={ref}", ctx)
        assert _cached(second) == 4, second
        assert "RAN-STEP-3" not in second and "RAN-STEP-5" not in second
        rebuilt = store().resolve("app:2")
        rebuilt_doc = json.loads(store().blobs.read_bytes(rebuilt.id))
        assert rebuilt_doc["rootfs"] == doc["rootfs"]
        assert rebuilt_doc["history"] == doc["history"]
        for layer in rebuilt.layers:  # the reused steps' layers were downloaded
            assert store().blobs.has(layer.descriptor.digest)

        (ctx / "b.txt").write_text("changed\n")
        _fresh_home(tmp_path, "home-3", monkeypatch, docker, busybox_base, archives)
        third = _build("-t", "app:3", "--cache-from", ref, ctx)  # a bare ref: registry
        assert _cached(third) == 2, third
        assert "RAN-STEP-3" not in third and "RAN-STEP-5" in third
    finally:
        server.stop()


def test_inline_cache_by_build_arg(busybox_base: str, tmp_path: Path) -> None:
    """`--build-arg BUILDKIT_INLINE_CACHE=1`, docker build's way to ask for inline cache: the
    config carries it and the arg is not reported as unused."""
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": DOCKERFILE.format(base=busybox_base),
                                           "a.txt": "one\n", "b.txt": "two\n"})
    result = lamina("build", "-t", "argcache:1", "--build-arg", "BUILDKIT_INLINE_CACHE=1", ctx)
    assert result.exit_code == 0, result.stderr
    assert "not consumed" not in result.stderr
    doc = json.loads(store().blobs.read_bytes(store().resolve("argcache:1").id))
    assert len(json.loads(base64.b64decode(doc["moby.buildkit.cache.v0"]))["records"]) == 4
