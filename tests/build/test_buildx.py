"""``docker buildx build``'s command line on ``lamina build``: # syntax, outputs, --push,
--iidfile, --metadata-file, --add-host, --shm-size, --ulimit, --no-cache-filter."""

from __future__ import annotations

import json
import re
import tarfile
import urllib.request
from pathlib import Path

import pytest

from tests.build.twin import store, write_context
from tests.client.registries import start_distribution
from tests.tools import lamina

pytestmark = pytest.mark.integration


def _ok(*args: str | Path) -> str:
    """The build's progress: on stderr, as docker buildx build writes it."""
    result = lamina("build", *args)
    assert result.exit_code == 0, result.stdout + result.stderr
    return result.stderr


def _cached(progress: str) -> int:
    """How many steps BuildKit's plain lines say were ``CACHED``."""
    return len(re.findall(r"^#\d+ CACHED$", progress, re.M))


@pytest.mark.parametrize("syntax", ["docker/dockerfile:1", "docker/dockerfile:1.7",
                                    "docker.io/docker/dockerfile:1.4.3-labs",
                                    "docker/dockerfile-upstream:1"])
def test_dockerfile_frontend_syntax_is_accepted(busybox_base: str, tmp_path: Path,
                                                syntax: str) -> None:
    """Dockerfile reference, "syntax": the built-in frontend serves docker/dockerfile:1."""
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": f"# syntax={syntax}\nFROM {busybox_base}\n"})
    _ok("-t", "syn:1", ctx)


def test_other_frontend_images_are_refused(busybox_base: str, tmp_path: Path) -> None:
    ctx = write_context(tmp_path / "ctx", {
        "Dockerfile": f"# syntax=example.com/my/frontend:2\nFROM {busybox_base}\nRUN true\n"})
    result = lamina("build", "-t", "syn:2", ctx)
    assert result.exit_code == 1
    assert "# syntax=example.com/my/frontend:2 asks for a frontend image" in result.stderr
    assert "syn:2" not in str(store().meta.read().tags)


def test_outputs_and_result_files(busybox_base: str, tmp_path: Path) -> None:
    """-o DIR / type=tar / type=oci / type=docker, --iidfile and --metadata-file (buildx's keys)."""
    ctx = write_context(tmp_path / "ctx", {
        "Dockerfile": f"FROM {busybox_base}\nRUN echo built > /out.txt\n"})
    out = tmp_path / "out"
    _ok("-t", "outs:1", "-o", out, "--output", f"type=tar,dest={tmp_path / 'fs.tar'}",
        "--output", f"type=oci,dest={tmp_path / 'oci.tar'}",
        "--output", f"type=docker,dest={tmp_path / 'docker.tar'}",
        "--iidfile", tmp_path / "iid", "--metadata-file", tmp_path / "meta.json", ctx)
    image = store().resolve("outs:1")
    assert (out / "out.txt").read_text() == "built\n"
    assert (out / "bin" / "busybox").is_file()
    with tarfile.open(tmp_path / "fs.tar") as tar:
        assert tar.extractfile("out.txt").read() == b"built\n"  # type: ignore[union-attr]
    with tarfile.open(tmp_path / "oci.tar") as tar:
        index = json.load(tar.extractfile("index.json"))  # type: ignore[arg-type]
        assert index["manifests"][0]["digest"] == str(image.manifest.digest)
    with tarfile.open(tmp_path / "docker.tar") as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        assert manifest[0]["RepoTags"] == ["outs:1"]
    assert (tmp_path / "iid").read_text() == str(image.id)
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert meta["containerimage.digest"] == str(image.manifest.digest)
    assert meta["containerimage.config.digest"] == str(image.id)
    assert meta["containerimage.descriptor"]["digest"] == str(image.manifest.digest)
    assert meta["image.name"] == "docker.io/library/outs:1"


def test_bad_output_is_refused_before_building(tmp_path: Path) -> None:
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": "FROM scratch\n"})
    result = lamina("build", "--output", "type=floppy,dest=x", ctx)
    assert result.exit_code == 1 and "type 'floppy' is unknown" in result.stderr
    result = lamina("build", "--output", "type=local", ctx)
    assert result.exit_code == 1 and "type=local needs dest=PATH" in result.stderr


def test_push_sends_the_tags(busybox_base: str, tmp_path: Path) -> None:
    registry = start_distribution(tmp_path / "registry")
    try:
        ctx = write_context(tmp_path / "ctx", {
            "Dockerfile": f"FROM {busybox_base}\nRUN echo pushed > /p\n"})
        name = f"{registry.host}/team/app:v1"
        _ok("-t", name, "--push", ctx)
        request = urllib.request.Request(
            f"http://{registry.host}/v2/team/app/manifests/v1",
            headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json, "
                               "application/vnd.oci.image.manifest.v1+json"})
        with urllib.request.urlopen(request) as response:
            digest = response.headers["Docker-Content-Digest"]
        assert digest == str(store().resolve(name).manifest.digest)
    finally:
        registry.stop()


def test_container_options_reach_run_only(busybox_base: str, tmp_path: Path) -> None:
    """--add-host, --shm-size and --ulimit shape RUN's container, not the image."""
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": (
        f"FROM {busybox_base}\n"
        "RUN grep builder.internal /etc/hosts > /hosts-line && "
        "df -k /dev/shm | tail -1 | awk '{print $2}' > /shm && ulimit -n > /nofile\n")})
    _ok("-t", "opts:1", "--add-host", "builder.internal:10.1.2.3", "--shm-size", "32m",
        "--ulimit", "nofile=1024:2048", ctx)
    root = tmp_path / "root"
    from tests.build.twin import lamina_image

    built = lamina_image("opts:1", root)
    assert (root / "hosts-line").read_text() == "10.1.2.3\tbuilder.internal\n"
    assert (root / "shm").read_text() == "32768\n"
    assert (root / "nofile").read_text() == "1024\n"
    assert "etc/hosts" not in built.tree
    bad = lamina("build", "--ulimit", "files=3", ctx)
    assert bad.exit_code == 1 and "--ulimit 'files=3'" in bad.stderr


def test_no_cache_filter_reruns_only_that_stage(busybox_base: str, tmp_path: Path) -> None:
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": (
        f"FROM {busybox_base} AS deps\nRUN echo deps > /d\n"
        f"FROM {busybox_base} AS app\nCOPY --from=deps /d /d\nRUN echo app > /a\n")})
    _ok("-t", "ncf:1", ctx)
    again = _ok("-t", "ncf:2", "--no-cache-filter", "app", ctx)
    assert _cached(again) == 1, again  # the deps RUN; both app steps ran again


def test_named_build_contexts(busybox_base: str, tmp_path: Path) -> None:
    """--build-context NAME=DIR | docker-image://REF | oci-layout://DIR, used by FROM,
    COPY --from and RUN --mount from= (docker buildx build's named contexts)."""
    shared = write_context(tmp_path / "shared", {"lib.txt": "from a named context\n"})
    layout = tmp_path / "layout"
    saved = lamina("save", "--format", "oci", "-o", layout, busybox_base)
    assert saved.exit_code == 0, saved.stderr
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": (
        "FROM base AS b\nRUN echo from-image > /img\n"
        "FROM ocibase\n"
        "COPY --from=shared lib.txt /lib.txt\n"
        "COPY --from=b /img /img\n"
        "RUN --mount=from=shared,target=/s cat /s/lib.txt > /mounted\n")})
    _ok("-t", "named:1", "--build-context", f"base=docker-image://{busybox_base}",
        "--build-context", f"ocibase=oci-layout://{layout}",
        "--build-context", f"shared={shared}", ctx)
    from tests.build.twin import lamina_image

    lamina_image("named:1", tmp_path / "root")
    root = tmp_path / "root"
    assert (root / "lib.txt").read_text() == "from a named context\n"
    assert (root / "mounted").read_text() == "from a named context\n"
    assert (root / "img").read_text() == "from-image\n"
    bad = lamina("build", "--build-context", "x=git://example.com/r", ctx)
    assert bad.exit_code == 1 and "only a directory, docker-image://" in bad.stderr


def test_progress_plain_prints_buildkit_lines(busybox_base: str, tmp_path: Path) -> None:
    """--progress plain: `#N [stage k/m] ...`, the step's output with its time, DONE/CACHED."""
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": (
        f"FROM {busybox_base} AS base\nRUN echo from-the-run\n"
        f"FROM {busybox_base}\nCOPY --from=base /etc/passwd /p\n")})
    first = _ok("--progress", "plain", "-t", "plain:1", ctx)
    assert "#1 [base 1/2] FROM" in first
    assert "#2 [base 2/2] RUN echo from-the-run" in first
    assert re.search(r"^#2 \d+\.\d{3} from-the-run$", first, re.M), first
    assert re.search(r"^#2 DONE \d+\.\ds$", first, re.M), first
    assert "#4 [stage-1 2/2] COPY --from=base /etc/passwd /p" in first
    assert "naming to plain:1 done" in first and "Step " not in first
    again = _ok("--progress", "plain", "-t", "plain:1", ctx)
    assert "#2 CACHED" in again and "#4 CACHED" in again
    classic = lamina("build", "--progress", "classic", "-t", "plain:1", ctx)
    assert "Step 1/4 : FROM" in classic.stdout and "#1 " not in classic.stdout + classic.stderr


def test_progress_default_follows_buildx(busybox_base: str, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --progress: ``auto``, which off a terminal is ``plain``, on stderr with stdout
    left empty (docker buildx build); BUILDKIT_PROGRESS picks another; DOCKER_BUILDKIT=0
    asks for the classic builder's lines, on stdout."""
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": f"FROM {busybox_base}\nRUN echo hi\n"})
    default = lamina("build", "-t", "dflt:1", ctx)
    assert default.exit_code == 0, default.stderr
    assert default.stdout == "" and "#2 [2/2] RUN echo hi" in default.stderr
    monkeypatch.setenv("BUILDKIT_PROGRESS", "rawjson")
    raw = lamina("build", "-t", "dflt:1", ctx)  # replayed: the record shows in any output
    docs = [json.loads(line) for line in raw.stderr.splitlines()]
    assert raw.stdout == "" and any(d.get("vertexes") for d in docs), raw.stderr
    monkeypatch.setenv("BUILDKIT_PROGRESS", "quiet")  # buildx: the image ID only
    quiet = lamina("build", "-t", "dflt:1", ctx)
    assert (quiet.stdout, quiet.stderr) == (str(store().resolve("dflt:1").id) + "\n", "")
    monkeypatch.setenv("BUILDKIT_PROGRESS", "none")  # buildx: nothing but errors
    none = lamina("build", "-t", "dflt:1", "--no-cache", ctx)
    assert (none.exit_code, none.stdout, none.stderr) == (0, "", "")
    monkeypatch.setenv("BUILDKIT_PROGRESS", "fancy")
    bad = lamina("build", "-t", "dflt:1", ctx)
    assert bad.exit_code == 2 and "'fancy' is not one of" in bad.stderr
    monkeypatch.delenv("BUILDKIT_PROGRESS")
    monkeypatch.setenv("DOCKER_BUILDKIT", "0")
    classic = lamina("build", "-t", "dflt:1", ctx)
    assert classic.stdout.startswith("Step 1/2 : FROM") and "#1 " not in classic.stderr
    flag = lamina("build", "--progress", "plain", "-t", "dflt:1", ctx)  # the flag wins
    assert flag.stdout == "" and "#2 CACHED" in flag.stderr


def test_plain_step_numbers_as_buildkit_pads_them(tmp_path: Path) -> None:
    """dockerfile2llb: one stage has no name in the prefix, and the step is padded to the
    width of the count (``[ 1/10]``)."""
    labels = "".join(f"LABEL n{i}={i}\n" for i in range(9))
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": "FROM scratch\n" + labels})
    out = _ok("--progress", "plain", "-t", "pad:1", ctx)
    assert "#1 [ 1/10] FROM scratch\n" in out and "#2 [ 2/10] LABEL n0=0\n" in out, out
    assert "#10 [10/10] LABEL n8=8\n" in out, out


def test_build_checks(busybox_base: str, tmp_path: Path) -> None:
    """`# check=skip=...;error=true` and `--check` (Dockerfile reference, "check"): BuildKit's
    checks, found by Lamina's lint rules."""
    body = f"FROM {busybox_base}\nMAINTAINER someone\nCMD echo hi\n"
    ctx = write_context(tmp_path / "ctx", {
        "Dockerfile": "# check=skip=MaintainerDeprecated\n" + body})
    warned = lamina("build", "-t", "chk:1", ctx)
    assert warned.exit_code == 0, warned.stderr
    assert "WARN: JSONArgsRecommended" in warned.stderr
    assert "MaintainerDeprecated" not in warned.stderr
    (ctx / "Dockerfile").write_text("# check=error=true\n" + body)
    failed = lamina("build", "-t", "chk:2", ctx)
    assert failed.exit_code == 1 and "build check(s) failed" in failed.stderr
    assert "JSONArgsRecommended" in failed.stderr and "MaintainerDeprecated" in failed.stderr
    only = lamina("build", "--check", "-t", "chk:3", ctx)
    assert only.exit_code == 1 and "Check complete, 2 warning(s)" in only.stdout
    tags = str(store().meta.read().tags)
    assert "chk:2" not in tags and "chk:3" not in tags


def test_progress_rawjson_is_solve_status_lines(busybox_base: str, tmp_path: Path) -> None:
    """--progress rawjson: BuildKit's SolveStatus (vertexes, logs, statuses), one a line."""
    import base64

    ctx = write_context(tmp_path / "ctx", {"Dockerfile": (
        f"FROM {busybox_base}\nRUN echo json-output\n")})
    out = _ok("--progress", "rawjson", "-t", "raw:1", ctx)
    docs = [json.loads(line) for line in out.splitlines()]
    vertexes = [v for d in docs for v in d.get("vertexes", [])]
    run = [v for v in vertexes if v["name"].endswith("RUN echo json-output")]
    assert run[0]["name"] == "[2/2] RUN echo json-output"
    assert any("completed" in v for v in run)
    logs = [base64.b64decode(entry["data"]) for d in docs for entry in d.get("logs", [])]
    assert b"json-output\n" in logs
    statuses = [s["id"] for d in docs for s in d.get("statuses", [])]
    assert "naming to raw:1" in statuses
