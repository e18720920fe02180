"""Pull against docker-registry (distribution 2.8): dedup, verification, resume, platforms.

Spec: opencontainers/distribution-spec spec.md "Pulling manifests", "Pulling blobs"
(Range requests: "Pulling blobs" allows servers to support Range); image-spec
image-index.md (platform selection); descriptor.md "Digests" (verification).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from lamina.cli.store import open_store
from lamina.errors import NotFound
from lamina.oci.digest import Digest
from lamina.store.image import StoredImage
from tests.client.images import layer_tar, make_image, make_index
from tests.client.proxy import FaultyProxy
from tests.client.registries import Distribution
from tests.tools import lamina

# Every test here drives a real tool (docker, runc, dpkg, ...).
pytestmark = pytest.mark.integration


def _push(name: str) -> None:
    result = lamina("push", "-q", name)
    assert result.exit_code == 0, result.stderr


def _fresh_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, label: str) -> Path:
    home = tmp_path / label
    monkeypatch.setenv("LAMINA_HOME", str(home))
    return home


@pytest.fixture
def proxy_factory(registry: Distribution) -> Iterator[type[FaultyProxy]]:
    started: list[FaultyProxy] = []

    class Started(FaultyProxy):
        def __init__(self, fault: str = "") -> None:
            super().__init__(registry.port, fault)
            started.append(self)

    yield Started
    for p in started:
        p.stop()


def test_push_then_pull_round_trip_keeps_digests(registry: Distribution, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Pulling manifests: the stored manifest is the exact bytes pushed (same digest)."""
    name = f"{registry.host}/demo/app:1.0"
    pushed = make_image(open_store(), name, [layer_tar("a", 2000), layer_tar("b", 300_000)])
    _push(name)
    _fresh_home(tmp_path, monkeypatch, "other-home")
    result = lamina("pull", "--format", "json", name)
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["digest"] == str(pushed.manifest_digest)
    assert doc["downloaded"] == 2 and doc["reused"] == 0
    image = open_store().resolve(name)
    assert image.manifest.raw == pushed.manifest.raw
    assert image.id == pushed.id
    assert f"{registry.host}/demo/app@{pushed.manifest_digest}" in image.repo_digests


def test_pull_downloads_only_missing_layers(registry: Distribution, proxy_factory: type[FaultyProxy],
                                            tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Docker downloads only layers it lacks: a second image sharing a base layer reuses it."""
    proxy = proxy_factory()
    base = layer_tar("base", 100_000)
    store = open_store()
    make_image(store, f"{proxy.host}/demo/one:1", [base])
    make_image(store, f"{proxy.host}/demo/two:1", [base, layer_tar("top", 50_000)])
    _push(f"{proxy.host}/demo/one:1")
    _push(f"{proxy.host}/demo/two:1")
    _fresh_home(tmp_path, monkeypatch, "puller")
    assert lamina("pull", "-q", f"{proxy.host}/demo/one:1").exit_code == 0
    before = proxy.count("GET", "/blobs/sha256:")
    result = lamina("pull", f"{proxy.host}/demo/two:1")
    assert result.exit_code == 0, result.stderr
    # The config and the new top layer; the shared base layer is not fetched again.
    assert proxy.count("GET", "/blobs/sha256:") - before == 2
    assert "1 layers reused" in result.stderr
    assert "Already exists" in result.stderr
    assert "Status: Downloaded newer image for" in result.stdout


def test_pull_again_reports_up_to_date(registry: Distribution) -> None:
    """`lamina pull` always asks the registry, and says when nothing changed."""
    name = f"{registry.host}/demo/app:2"
    make_image(open_store(), name, [layer_tar("a", 1000)])
    _push(name)
    result = lamina("pull", name)
    assert result.exit_code == 0, result.stderr
    assert f"Status: Image is up to date for {name}" in result.stdout
    assert result.stdout.splitlines()[-1] == name
    assert any(line.startswith("Digest: sha256:") for line in result.stdout.splitlines())


def test_pull_without_tag_warns_about_latest(registry: Distribution) -> None:
    """A name without tag gets :latest, and the warning on stderr."""
    make_image(open_store(), f"{registry.host}/demo/app:latest", [layer_tar("a", 1000)])
    _push(f"{registry.host}/demo/app:latest")
    result = lamina("pull", f"{registry.host}/demo/app")
    assert result.exit_code == 0, result.stderr
    assert "'latest' tag" in result.stderr


def test_cut_connection_resumes_with_range(registry: Distribution,
                                           proxy_factory: type[FaultyProxy], tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """An interrupted blob download continues from where it stopped (Range: bytes=N-)."""
    proxy = proxy_factory("cut")
    name = f"{proxy.host}/demo/big:1"
    pushed = make_image(open_store(), name, [layer_tar("big", 3_000_000)])
    _push(name)
    _fresh_home(tmp_path, monkeypatch, "puller")
    result = lamina("pull", "-q", name)
    assert result.exit_code == 0, result.stderr
    assert any(r.startswith("bytes=") and r != "bytes=0-" for r in proxy.ranges)
    image = open_store().resolve(name)
    assert image.manifest_digest == pushed.manifest_digest
    assert open_store().blobs.has(pushed.layers[0].digest)


def test_corrupted_blob_is_refused_and_nothing_stored(registry: Distribution,
                                                      proxy_factory: type[FaultyProxy],
                                                      tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """descriptor.md "Digests": content that does not hash to its digest is refused."""
    name = f"{registry.host}/demo/app:3"
    pushed = make_image(open_store(), name, [layer_tar("a", 200_000)])
    _push(name)
    proxy = proxy_factory("flip")
    home = _fresh_home(tmp_path, monkeypatch, "puller")
    result = lamina("pull", "-q", f"{proxy.host}/demo/app:3")
    assert result.exit_code == 1
    assert "refused" in result.stderr and "nothing stored" in result.stderr
    store = open_store()
    assert not store.blobs.has(pushed.layers[0].digest)
    with pytest.raises(NotFound):
        store.resolve(f"{proxy.host}/demo/app:3")
    leftovers = list((home / "tmp").iterdir()) if (home / "tmp").exists() else []
    assert leftovers == []


def _push_two_platforms(name: str) -> StoredImage:
    """An index of linux/amd64 and linux/arm64 images, pushed as ``name``."""
    made = make_index(open_store(), name, {
        "linux/amd64": [layer_tar("amd", 1000)],
        "linux/arm64": [layer_tar("arm", 1000)],
    })
    _push(name)
    return made


def test_platform_choice_from_index(registry: Distribution, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """image-index.md: the client picks the manifest whose platform matches --platform."""
    name = f"{registry.host}/demo/multi:1"
    made = _push_two_platforms(name)
    assert made.index is not None
    arm = next(d for d in made.index.manifests if d.platform and d.platform.architecture == "arm64")
    _fresh_home(tmp_path, monkeypatch, "puller")
    result = lamina("pull", "--platform", "linux/arm64", "--format", "json", name)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["digest"] == str(made.index.digest)
    image = open_store().resolve(name)
    assert image.manifest_digest == arm.digest
    assert image.config.architecture == "arm64"
    bad = lamina("pull", "--platform", "linux/s390x", name)
    assert bad.exit_code == 1
    assert "no manifest for platform linux/s390x" in bad.stderr
    assert "linux/arm64" in bad.stderr


def test_platform_a_single_platform_image_lacks_is_refused_before_layers(
        registry: Distribution, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """image-spec config.md: a plain manifest's platform is its config's os/architecture."""
    name = f"{registry.host}/demo/single:1"
    made = make_image(open_store(), name, [layer_tar("amd", 50_000)])
    _push(name)
    home = _fresh_home(tmp_path, monkeypatch, "single-puller")
    bad = lamina("pull", "--platform", "linux/s390x", name)
    assert bad.exit_code == 1
    assert bad.stderr.strip().splitlines()[-1] == (
        f"error: {name} has no image for platform linux/s390x; the platforms it has:"
        f" {made.config.os}/{made.config.architecture} (a single-platform image)")
    assert not (home / "blobs" / "sha256" / made.layers[0].digest.hex).exists()
    assert open_store().images() == []
    good = lamina("pull", "--platform", f"linux/{made.config.architecture}", name)
    assert good.exit_code == 0, good.stderr


def test_pull_by_digest_verifies_and_records(registry: Distribution, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Pulling by digest: the manifest must hash to the requested digest."""
    name = f"{registry.host}/demo/app:4"
    pushed = make_image(open_store(), name, [layer_tar("a", 1000)])
    _push(name)
    _fresh_home(tmp_path, monkeypatch, "puller")
    ref = f"{registry.host}/demo/app@{pushed.manifest_digest}"
    result = lamina("pull", ref)
    assert result.exit_code == 0, result.stderr
    assert "'latest'" not in result.stderr
    assert open_store().resolve(ref).manifest_digest == pushed.manifest_digest
    missing = lamina("pull", f"{registry.host}/demo/app@{Digest.of(b'nothing')}")
    assert missing.exit_code == 1
    assert "not found" in missing.stderr


def test_progress_views(registry: Distribution, tmp_path: Path,
                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Progress goes to stderr: JSON lines with --format json, nothing with --quiet."""
    name = f"{registry.host}/demo/app:5"
    pushed = make_image(open_store(), name, [layer_tar("a", 1000), layer_tar("b", 1000)])
    _push(name)
    _fresh_home(tmp_path, monkeypatch, "json")
    result = lamina("pull", "--format", "json", name)
    events = [json.loads(line) for line in result.stderr.splitlines()]
    done = {e["id"] for e in events if e["status"] == "Pull complete"}
    assert done == {layer.digest.hex[:12] for layer in pushed.layers}
    _fresh_home(tmp_path, monkeypatch, "quiet")
    quiet = lamina("pull", "-q", name)
    assert quiet.stderr == "" and quiet.stdout == f"{name}\n"


def test_pull_all_platforms_keeps_the_index(registry: Distribution, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """--all-platforms stores the index and every image it names (image-index.md)."""
    name = f"{registry.host}/demo/multi:2"
    made = _push_two_platforms(name)
    assert made.index is not None
    _fresh_home(tmp_path, monkeypatch, "puller")
    result = lamina("pull", "--all-platforms", "--format", "json", name)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["downloaded"] == 2
    store = open_store()
    image = store.resolve(name)
    assert image.index is not None and image.index.raw == made.index.raw
    assert all(store.blobs.has(d.digest) for d in made.index.manifests)


def test_a_layer_whose_files_miss_the_diff_id_is_refused_at_pull(
        registry: Distribution, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """image-spec config.md "rootfs.diff_ids": the pull decompresses each layer as it
    downloads, so a layer whose files do not hash to its diff ID is refused there and
    nothing of it (blob, record, index) is stored."""
    import gzip
    import io

    from lamina.oci import mediatype
    from lamina.oci.descriptor import Descriptor
    from lamina.oci.manifest import Manifest
    from lamina.oci.reference import Reference
    from lamina.store.ingest import ingest_layer
    from lamina.store.layer_index import index_path
    from lamina.store.store import host_os_arch
    from tests.client.images import config_bytes

    store = open_store()
    got = ingest_layer(store.blobs, io.BytesIO(gzip.compress(layer_tar("a", 5000), mtime=0)))
    bogus = Digest.of(b"not the layer")
    config = config_bytes([bogus], host_os_arch())
    config_digest = store.blobs.put_bytes(config)
    manifest = Manifest.build(Descriptor(mediatype.OCI_CONFIG, config_digest, len(config)),
                              [Descriptor(mediatype.OCI_LAYER_GZIP, got.digest, got.size)])
    store.blobs.put_bytes(manifest.raw)
    name = f"{registry.host}/demo/lying:1"
    store.add_image(manifest.raw, tags=[Reference.parse(name)])
    _push(name)

    home = _fresh_home(tmp_path, monkeypatch, "puller")
    result = lamina("pull", "-q", name)
    assert result.exit_code == 1
    assert "does not match the config's diff ID" in result.stderr
    store = open_store()
    assert not store.blobs.has(got.digest)
    assert store.layer_record(bogus) is None and store.layer_record(got.diff_id) is None
    assert not index_path(home, bogus).exists() and not index_path(home, got.diff_id).exists()
    with pytest.raises(NotFound):
        store.resolve(name)


def test_pulled_layers_are_measured_and_indexed_by_the_pull(
        registry: Distribution, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Sizes shown are what the files take (docker's layer size), recorded by the pull's own
    pass; the stored index equals the one a full read of the blob makes (first-use indexing)."""
    from lamina.store.ingest import measure_layer
    from lamina.store.layer_index import index_path, stored_index

    name = f"{registry.host}/demo/sized:1"
    tars = [layer_tar("a", 300_000), _many_files_tar()]
    pushed = make_image(open_store(), name, tars)
    _push(name)
    home = _fresh_home(tmp_path, monkeypatch, "puller")
    assert lamina("pull", "-q", name).exit_code == 0
    store = open_store()
    for layer in pushed.layers:
        record = store.layer_record(layer.diff_id)
        assert record is not None and record.size == layer.size
        assert index_path(home, layer.diff_id).is_file()
        index = stored_index(store, layer.diff_id)
        assert index is not None
        full = measure_layer(store.blobs, layer.digest, expected_diff_id=layer.diff_id,
                             compression="gzip").index
        assert full is not None and index.to_bytes() == full.to_bytes()
    assert len(stored_index(store, pushed.layers[1].diff_id) or []) == 41
    rows = json.loads(lamina("images", "--format", "json").stdout)
    assert rows[0]["Size"] == pushed.size


def test_corrupt_layer_leaves_no_index(registry: Distribution, proxy_factory: type[FaultyProxy],
                                       tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """descriptor.md "Digests": a layer that fails its digest check is refused whole: the
    index the pull's pass was building is not kept."""
    from lamina.store.layer_index import INDEX_DIR

    name = f"{registry.host}/demo/app:corrupt-index"
    make_image(open_store(), name, [layer_tar("a", 200_000)])
    _push(name)
    proxy = proxy_factory("flip")
    home = _fresh_home(tmp_path, monkeypatch, "puller")
    result = lamina("pull", "-q", f"{proxy.host}/demo/app:corrupt-index")
    assert result.exit_code == 1 and "refused" in result.stderr
    indexes = [p for p in (home / INDEX_DIR).rglob("*") if p.is_file()] \
        if (home / INDEX_DIR).exists() else []
    assert indexes == []


def _many_files_tar() -> bytes:
    """A layer with a directory and 40 small files (plus a symlink), for a non-trivial index."""
    import io
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("etc")
        info.type, info.mode = tarfile.DIRTYPE, 0o755
        tar.addfile(info)
        for n in range(39):
            data = f"file {n}\n".encode() * (n + 1)
            info = tarfile.TarInfo(f"etc/f{n:02d}.conf")
            info.size, info.mode, info.uid, info.mtime = len(data), 0o640, n, 1_700_000_000 + n
            tar.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("etc/latest")
        link.type, link.linkname = tarfile.SYMTYPE, "f38.conf"
        tar.addfile(link)
    return buf.getvalue()


def test_a_quiet_pull_starts_without_bars_httpx_cli_or_ca_bundle(
        registry: Distribution, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Start-up is a pull's fixed cost: ``pull -q`` from a plain-HTTP registry loads no
    progress bars (rich), not httpx's command line (pygments), and no CA bundle (the one
    SSL_CERT_FILE names does not exist: loading it would fail the pull)."""
    import os
    import subprocess
    import sys

    name = f"{registry.host}/demo/app:startup"
    make_image(open_store(), name, [layer_tar("a", 3000)])
    _push(name)
    code = ("import sys\nfrom lamina.cli.entry import main\n"
            f"sys.argv = ['lamina', 'pull', '-q', {name!r}]\n"
            "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
            "print('\\n'.join(sorted(sys.modules)), file=sys.stderr)\n")
    env = {**os.environ, "LAMINA_HOME": str(tmp_path / "puller"),
           "SSL_CERT_FILE": str(tmp_path / "no-such-bundle.pem")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, check=True)
    assert done.stdout.strip() == name
    loaded = set(done.stderr.split())
    assert "lamina.client.pull" in loaded
    assert not {m for m in loaded if m.split(".")[0] in ("rich", "pygments")}
