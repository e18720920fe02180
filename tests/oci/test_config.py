"""The image configuration: image-spec config.md (history, rootfs.diff_ids, config), and
Docker's container image JSON as `docker inspect` / `docker save` give it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from lamina.errors import InvalidManifest
from lamina.oci.config import HistoryEntry, ImageConfig
from lamina.oci.digest import Digest

DIFF1 = "sha256:3d6dc7d7e0a4c0d6bfa1ba1fe0a1e8d8b3e5b5f8b0b0b7b0d5b58d3f7d3ce3b1"
DIFF2 = "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"

# Shaped like the config of an image `docker build` (classic builder, Docker 20.10) made
# from a busybox base: Docker's field names, an empty_layer entry per metadata
# instruction, one diff_id per entry without empty_layer, compact JSON as Docker stores it.
DOCKER_CONFIG = (
    b'{"architecture":"amd64","config":{"Hostname":"","Domainname":"","User":"",'
    b'"AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"Tty":false,'
    b'"OpenStdin":false,"StdinOnce":false,'
    b'"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","GREETING=hi"],'
    b'"Cmd":["/bin/sh","-c","echo $GREETING"],"Image":"sha256:'
    + b"9" * 64 +
    b'","Volumes":null,"WorkingDir":"/app","Entrypoint":null,"OnBuild":null,'
    b'"Labels":{"org.example.team":"lamina"}},'
    b'"container":"1b0c2e1e4c3f6a3d5e7f9a1b3c5d7e9f1a3b5c7d9e1f3a5b7c9d1e3f5a7b9c1d",'
    b'"container_config":{"Hostname":"1b0c2e1e4c3f","Cmd":["/bin/sh","-c","#(nop) ",'
    b'"CMD [\\"/bin/sh\\" \\"-c\\" \\"echo $GREETING\\"]"]},'
    b'"created":"2024-05-01T10:00:03.123456789Z","docker_version":"20.10.24",'
    b'"history":['
    b'{"created":"2024-04-30T09:00:00.000000000Z","created_by":"/bin/sh -c #(nop) ADD file:'
    + b"a" * 64 + b' in / "},'
    b'{"created":"2024-04-30T09:00:00.500000000Z","created_by":"/bin/sh -c #(nop)  CMD [\\"sh\\"]",'
    b'"empty_layer":true},'
    b'{"created":"2024-05-01T10:00:01.000000000Z","created_by":"/bin/sh -c #(nop)  ENV GREETING=hi",'
    b'"empty_layer":true},'
    b'{"created":"2024-05-01T10:00:02.000000000Z",'
    b'"created_by":"/bin/sh -c mkdir /app && echo hi > /app/hello","author":"ops@example.com",'
    b'"comment":"buildkit.dockerfile.v0"},'
    b'{"created":"2024-05-01T10:00:03.000000000Z","created_by":"/bin/sh -c #(nop) WORKDIR /app",'
    b'"empty_layer":true},'
    b'{"created":"2024-05-01T10:00:03.123456789Z",'
    b'"created_by":"/bin/sh -c #(nop)  CMD [\\"/bin/sh\\" \\"-c\\" \\"echo $GREETING\\"]",'
    b'"empty_layer":true}],'
    b'"os":"linux","rootfs":{"type":"layers","diff_ids":["' + DIFF1.encode() + b'","'
    + DIFF2.encode() + b'"]}}'
)

# image-spec config.md "Example" (trimmed), pretty-printed as many tools write it.
OCI_CONFIG = json.dumps({
    "created": "2015-10-31T22:22:56.015925234Z",
    "author": "Alyssa P. Hacker <alyspdev@example.com>",
    "architecture": "arm",
    "variant": "v7",
    "os": "linux",
    "config": {
        "User": "alice",
        "ExposedPorts": {"8080/tcp": {}},
        "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "FOO=oci_is_a"],
        "Entrypoint": ["/bin/my-app-binary"],
        "Cmd": ["--foreground", "--config", "/etc/my-app.d/default.cfg"],
        "Volumes": {"/var/job-result-data": {}},
        "WorkingDir": "/home/alice",
        "Labels": {"com.example.project.git.url": "https://example.com/project.git"},
    },
    "rootfs": {"diff_ids": [DIFF1, DIFF2], "type": "layers"},
    "history": [
        {"created": "2015-10-31T22:22:54.690851953Z",
         "created_by": "/bin/sh -c #(nop) ADD file:" + "a3bc1e84" * 8 + " in /"},
        {"created": "2015-10-31T22:22:55.613815829Z", "created_by": "/bin/sh -c #(nop) CMD [\"sh\"]",
         "empty_layer": True},
        {"created": "2015-10-31T22:22:56.329850019Z", "created_by": "/bin/sh -c apk add curl"},
    ],
}, indent=4).encode()


def test_docker_config_parses() -> None:
    """config.md Properties; Docker's container image JSON keeps its field names."""
    config = ImageConfig.parse(DOCKER_CONFIG)
    assert config.os == "linux" and config.architecture == "amd64" and config.variant == ""
    assert config.created == "2024-05-01T10:00:03.123456789Z"
    assert config.diff_ids == [Digest.parse(DIFF1), Digest.parse(DIFF2)]
    runtime = config.container_config
    assert runtime["Env"][1] == "GREETING=hi"
    assert runtime["Cmd"] == ["/bin/sh", "-c", "echo $GREETING"]
    assert runtime["WorkingDir"] == "/app"
    assert runtime["Labels"] == {"org.example.team": "lamina"}


def test_image_id_is_digest_of_exact_config_bytes() -> None:
    """Docker's IMAGE ID is the sha256 of the config bytes as stored (never re-serialised)."""
    config = ImageConfig.parse(DOCKER_CONFIG)
    assert config.raw == DOCKER_CONFIG
    assert config.digest.hex == hashlib.sha256(DOCKER_CONFIG).hexdigest()
    pretty = json.dumps(json.loads(DOCKER_CONFIG), indent=2).encode()
    assert ImageConfig.parse(pretty).digest == Digest.of(pretty) != config.digest


def test_history_entries() -> None:
    """config.md history: created, created_by, author, comment, empty_layer, in order."""
    history = ImageConfig.parse(DOCKER_CONFIG).history
    assert len(history) == 6
    assert [h.empty_layer for h in history] == [False, True, True, False, True, True]
    assert history[0].created_by.startswith("/bin/sh -c #(nop) ADD file:")
    assert history[2].created_by == "/bin/sh -c #(nop)  ENV GREETING=hi"
    assert history[3] == HistoryEntry(
        created="2024-05-01T10:00:02.000000000Z",
        created_by="/bin/sh -c mkdir /app && echo hi > /app/hello",
        author="ops@example.com",
        comment="buildkit.dockerfile.v0",
    )


def test_history_without_empty_layer_pairs_with_diff_ids() -> None:
    """config.md history empty_layer: the entries without it are the layers, in order."""
    config = ImageConfig.parse(DOCKER_CONFIG)
    assert len([h for h in config.history if not h.empty_layer]) == len(config.diff_ids)


def test_history_entry_round_trip_omits_empty_fields() -> None:
    """Fields that are empty are left out, as Docker writes history."""
    entry = HistoryEntry(created="2024-01-01T00:00:00Z", created_by="/bin/sh -c true", empty_layer=True)
    assert entry.to_dict() == {"created": "2024-01-01T00:00:00Z",
                               "created_by": "/bin/sh -c true", "empty_layer": True}
    assert HistoryEntry.from_dict(entry.to_dict()) == entry
    assert HistoryEntry().to_dict() == {}


def test_history_null_fields_read_as_absent() -> None:
    """A JSON null leaves a string field at its zero value (as Go's decoder does)."""
    assert HistoryEntry.from_dict({"created": None, "comment": None}) == HistoryEntry()


def test_oci_config_parses() -> None:
    """config.md Example: variant, Entrypoint/Cmd, ExposedPorts, history."""
    config = ImageConfig.parse(OCI_CONFIG)
    assert (config.os, config.architecture, config.variant) == ("linux", "arm", "v7")
    assert config.container_config["Entrypoint"] == ["/bin/my-app-binary"]
    assert config.container_config["ExposedPorts"] == {"8080/tcp": {}}
    assert [h.empty_layer for h in config.history] == [False, True, False]
    assert len(config.diff_ids) == 2
    assert config.digest == Digest.of(OCI_CONFIG)


def test_config_without_history_or_runtime_config() -> None:
    """history and config are OPTIONAL in config.md; absent they read as empty."""
    raw = json.dumps({"architecture": "amd64", "os": "linux",
                      "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    config = ImageConfig.parse(raw)
    assert config.history == [] and config.diff_ids == [] and config.container_config == {}
    assert config.created == ""


def test_from_doc_serialises_compactly_and_digests_those_bytes() -> None:
    """A config we write is compact JSON; its digest is of exactly the bytes written."""
    doc = json.loads(DOCKER_CONFIG)
    config = ImageConfig.from_doc(doc)
    assert config.raw == json.dumps(doc, separators=(",", ":")).encode()
    assert config.digest == Digest.of(config.raw)
    assert config.diff_ids == [Digest.parse(DIFF1), Digest.parse(DIFF2)]


def _with(change: dict[str, Any]) -> bytes:
    doc = json.loads(DOCKER_CONFIG)
    doc.update(change)
    return json.dumps(doc).encode()


@pytest.mark.parametrize(("raw", "fragment"), [
    (_with({"rootfs": {"type": "layers", "diff_ids": ["sha256:1234"]}}), "diff_id 'sha256:1234'"),
    (_with({"rootfs": {"type": "layers", "diff_ids": [DIFF1.upper()]}}), "diff_id"),
    (_with({"rootfs": {"type": "layers", "diff_ids": ["md5:" + "0" * 32]}}), "diff_id"),
    (_with({"rootfs": {"type": "layers", "diff_ids": [DIFF1[7:]]}}), "diff_id"),
    (_with({"rootfs": {"type": "layers", "diff_ids": [42]}}), "diff_id 42"),
    (_with({"rootfs": {"type": "layers", "diff_ids": [None]}}), "diff_id None"),
    (_with({"rootfs": {"type": "layers", "diff_ids": [DIFF1 + "\n"]}}), "diff_id"),
    (_with({"rootfs": {"type": "layers", "diff_ids": DIFF1}}), "rootfs.diff_ids"),
    (_with({"rootfs": [DIFF1]}), "rootfs.diff_ids"),
    (_with({"rootfs": {"type": "zfs", "diff_ids": [DIFF1]}}), "rootfs.type 'zfs'"),
    (_with({"rootfs": {"type": ["layers"], "diff_ids": []}}), "rootfs.type"),
    (_with({"history": {"created_by": "x"}}), "'history' must be a list"),
    (_with({"history": ["/bin/sh -c true"]}), "history entries must be objects"),
    (_with({"history": [{"empty_layer": "false"}]}), "'empty_layer'"),
    (_with({"history": [{"empty_layer": 1}]}), "'empty_layer'"),
    (_with({"history": [{"created_by": ["/bin/sh", "-c", "true"]}]}), "'created_by'"),
    (_with({"history": [{"created": 1714557600}]}), "'created'"),
    (b"", "not valid JSON"),
    (b"\xff", "not valid JSON"),
    (b"[1, 2]", "JSON object"),
])
def test_bad_config_refused_naming_the_field(raw: bytes, fragment: str) -> None:
    """config.md: rootfs.diff_ids are digests; history entries are typed objects."""
    with pytest.raises(InvalidManifest) as info:
        ImageConfig.parse(raw)
    assert fragment in str(info.value)
