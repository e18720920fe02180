"""Real clients against ``lamina registry serve`` (issue "Tests with real clients"):
docker, skopeo (incl. --all of a multi-platform index), podman, an OCI artifact with a
subject found through the referrers API (spec.md "Listing Referrers")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lamina.oci import mediatype
from tests.registry.helpers import RegistryServer, push_blob, sha256
from tests.registry.layout import write_multi_platform
from tests.tools import require_tool, run

pytestmark = pytest.mark.integration


def test_docker_push_and_pull(docker: str, busybox_image: str,
                              registry_server: RegistryServer) -> None:
    """docker push then docker pull (after removing the local copy) round-trips the image."""
    target = f"{registry_server.host}/lamina-test/busybox:1.36"
    run([docker, "tag", busybox_image, target])
    try:
        pushed = run([docker, "push", target]).stdout.decode()
        assert "digest: sha256:" in pushed
        digest = pushed.split("digest: ")[1].split()[0]
        run([docker, "rmi", target])
        run([docker, "pull", target])
        out = run([docker, "run", "--rm", "--network=none", target, "echo", "pulled"])
        assert out.stdout.decode().strip() == "pulled"
        with registry_server.client() as c:
            r = c.head("/v2/lamina-test/busybox/manifests/1.36",
                       headers={"Accept": mediatype.DOCKER_MANIFEST})
            assert r.headers["Docker-Content-Digest"] == digest
            # A second push finds every blob present: nothing is uploaded again.
            again = run([docker, "push", target]).stdout.decode()
            assert "Layer already exists" in again
        # Another repository: docker mounts the layer across (spec.md "Mounting a blob").
        other = f"{registry_server.host}/elsewhere/busybox:copy"
        run([docker, "tag", busybox_image, other])
        assert "Mounted from lamina-test/busybox" in run([docker, "push", other]).stdout.decode()
        run([docker, "rmi", other])
    finally:
        run([docker, "rmi", target], check=False)


def test_skopeo_copy_both_ways(docker: str, busybox_image: str,
                               registry_server: RegistryServer, tmp_path: Path) -> None:
    """skopeo copy docker-daemon: -> docker:// -> oci: -> docker:// (another repository,
    blobs mounted or deduplicated) keeps the manifest digest."""
    skopeo = require_tool("skopeo")
    dest = f"docker://{registry_server.host}/skopeo/busybox:v1"
    run([skopeo, "copy", "--dest-tls-verify=false", f"docker-daemon:{busybox_image}", dest])
    layout = tmp_path / "layout"
    run([skopeo, "copy", "--src-tls-verify=false", dest, f"oci:{layout}:v1"])
    index = json.loads((layout / "index.json").read_text())
    local_digest = index["manifests"][0]["digest"]
    run([skopeo, "copy", "--dest-tls-verify=false", f"oci:{layout}:v1",
         f"docker://{registry_server.host}/other/copy:v2"])
    inspect = json.loads(run([skopeo, "inspect", "--tls-verify=false",
                              f"docker://{registry_server.host}/other/copy:v2"]).stdout)
    assert inspect["Digest"] == local_digest
    blob_files = list((registry_server.root / "blobs").rglob("*"))
    layer_digest = inspect["Layers"][0]
    assert sum(p.name == layer_digest[7:] for p in blob_files) == 1


def test_skopeo_copy_all_of_a_multi_platform_index(registry_server: RegistryServer,
                                                   tmp_path: Path) -> None:
    """skopeo copy --all pushes the index and every child; pulling it back yields the same
    index digest; the registry serves the index with its media type."""
    skopeo = require_tool("skopeo")
    source = tmp_path / "multi"
    index_digest = write_multi_platform(source, "1.0")
    dest = f"docker://{registry_server.host}/multi/app:1.0"
    run([skopeo, "copy", "--all", "--dest-tls-verify=false", f"oci:{source}:1.0", dest])
    with registry_server.client() as c:
        r = c.get("/v2/multi/app/manifests/1.0", headers={"Accept": mediatype.OCI_INDEX})
        assert r.status_code == 200
        assert r.headers["Content-Type"] == mediatype.OCI_INDEX
        assert r.headers["Docker-Content-Digest"] == index_digest
        for child in r.json()["manifests"]:
            assert c.head(f"/v2/multi/app/manifests/{child['digest']}").status_code == 200
    back = tmp_path / "back"
    run([skopeo, "copy", "--all", "--src-tls-verify=false", dest, f"oci:{back}:1.0"])
    assert json.loads((back / "index.json").read_text())["manifests"][0]["digest"] == \
        index_digest
    arm = run([skopeo, "inspect", "--tls-verify=false", "--override-arch", "arm64", dest])
    assert json.loads(arm.stdout)["Architecture"] == "arm64"


def test_podman_push_and_pull(docker: str, busybox_image: str,
                              registry_server: RegistryServer) -> None:
    """podman pull from and push to the registry (plain HTTP with --tls-verify=false)."""
    podman = require_tool("podman")
    skopeo = require_tool("skopeo")
    source = f"{registry_server.host}/podman/busybox:src"
    run([skopeo, "copy", "--dest-tls-verify=false", f"docker-daemon:{busybox_image}",
         f"docker://{source}"])
    target = f"{registry_server.host}/podman/pushed:v1"
    try:
        run([podman, "pull", "--tls-verify=false", source], timeout=300)
        run([podman, "tag", source, target])
        run([podman, "push", "--tls-verify=false", target], timeout=300)
        run([podman, "rmi", "-f", target, source])
        run([podman, "pull", "--tls-verify=false", target], timeout=300)
    finally:
        run([podman, "rmi", "-f", target, source], check=False)
    with registry_server.client() as c:
        assert c.get("/v2/podman/pushed/tags/list").json()["tags"] == ["v1"]


def test_artifact_with_subject_found_through_referrers(
        docker: str, busybox_image: str, registry_server: RegistryServer) -> None:
    """spec.md "Pushing Manifests with Subject" and "Listing Referrers": an SBOM artifact
    pushed by digest with a subject gets OCI-Subject; the referrers API lists it, filtered
    by artifactType; skopeo still pulls the image it refers to."""
    skopeo = require_tool("skopeo")
    image = f"docker://{registry_server.host}/app/img:v1"
    run([skopeo, "copy", "--dest-tls-verify=false", "--format", "oci",
         f"docker-daemon:{busybox_image}", image])
    with registry_server.client() as c:
        head = c.head("/v2/app/img/manifests/v1", headers={"Accept": mediatype.OCI_MANIFEST})
        subject = {"mediaType": head.headers["Content-Type"],
                   "digest": head.headers["Docker-Content-Digest"],
                   "size": int(head.headers["Content-Length"])}
        sbom = json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.5"}).encode()
        push_blob(c, "app/img", b"{}")
        push_blob(c, "app/img", sbom)
        artifact = json.dumps({
            "schemaVersion": 2, "mediaType": mediatype.OCI_MANIFEST,
            "artifactType": "application/vnd.cyclonedx+json",
            "config": {"mediaType": mediatype.OCI_EMPTY, "digest": sha256(b"{}"), "size": 2},
            "layers": [{"mediaType": "application/vnd.cyclonedx+json", "digest": sha256(sbom),
                        "size": len(sbom)}],
            "subject": subject,
            "annotations": {"org.opencontainers.image.created": "2026-01-01T00:00:00Z"},
        }).encode()
        r = c.put(f"/v2/app/img/manifests/{sha256(artifact)}", content=artifact,
                  headers={"Content-Type": mediatype.OCI_MANIFEST})
        assert r.status_code == 201 and r.headers["OCI-Subject"] == subject["digest"]
        found = c.get(f"/v2/app/img/referrers/{subject['digest']}",
                      params={"artifactType": "application/vnd.cyclonedx+json"})
        assert found.headers["OCI-Filters-Applied"] == "artifactType"
        [entry] = found.json()["manifests"]
        assert entry["digest"] == sha256(artifact)
        assert entry["annotations"]["org.opencontainers.image.created"] == "2026-01-01T00:00:00Z"
        none = c.get(f"/v2/app/img/referrers/{subject['digest']}",
                     params={"artifactType": "application/other"})
        assert none.json()["manifests"] == []
    run([skopeo, "inspect", "--tls-verify=false", image])
