"""The ``lamina`` entry point: `lamina lint`, `lamina diff` and `lamina analyze` start
without click and answer as click does (issue 17, "load only what linting needs"; issue
16, diff's and analyze's speed)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from lamina.cli import analyze_options, diff_options
from lamina.cli.lint_options import FORMATS, parse_plain
from lamina.lint.formats import RENDERERS
from lamina.oci import mediatype
from lamina.oci.descriptor import Descriptor
from lamina.oci.manifest import Manifest
from lamina.oci.reference import Reference
from lamina.store.ingest import ingest_layer
from lamina.store.store import Store
from tests.lint.fixtures import FIXTURES

DECK = str(FIXTURES / "deck.Dockerfile")
CLEAN = str(FIXTURES / "clean-multistage.Dockerfile")
# The click command tree, never the fast start.
CLICK = "import sys; from lamina.cli.main import main; sys.argv[0] = 'lamina'; main()"


def _run(argv: list[str], *, fast: bool, stdin: str = "",
         cwd: Path | None = None) -> tuple[int, str, str]:
    program = ["-m", "lamina.cli"] if fast else ["-c", CLICK]
    proc = subprocess.run([sys.executable, *program, *argv], input=stdin, capture_output=True,
                          text=True, cwd=cwd, timeout=120)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.mark.integration
@pytest.mark.parametrize("argv", [
    ["lint", DECK],
    ["lint", "--format", "json", DECK, CLEAN],
    ["lint", "--format=sarif", "--failure-threshold", "none", DECK],
    ["lint", "--ignore", "DL3008", "--ignore=lm402", "--no-shellcheck", DECK],
    ["lint", "--no-cache", "--format", "checkstyle", CLEAN],
    ["lint", "-"],
    ["lint", DECK, "/no/such/Dockerfile"],  # a usage error after some work
    ["lint", "--ignore", "LM999", DECK],
    ["lint", "--format", "yaml", DECK],
    ["lint", "--frobnicate", DECK],
    ["lint", "--format"],
    ["lint", "--help"],
    ["lint", "--hadolint-config", "/no/such/.hadolint.yaml", DECK],
])
def test_fast_start_answers_as_click_does(argv: list[str]) -> None:
    stdin = "FROM alpine\nRUN apk add curl\nRUNN x\n"
    assert _run(argv, fast=True, stdin=stdin) == _run(argv, fast=False, stdin=stdin)


@pytest.mark.integration
def test_default_dockerfile_in_the_working_directory(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(Path(DECK).read_text())
    fast = _run(["lint"], fast=True, cwd=tmp_path)
    assert fast == _run(["lint"], fast=False, cwd=tmp_path)
    assert fast[0] == 1 and "Dockerfile:" in fast[1]


def _fast_without_click(*argv: str) -> list[str]:
    """``lamina ARGV`` through the fast start in a fresh interpreter: its output lines, the
    last one "EXIT-CODE [click modules it loaded]"."""
    code = ("import sys\nfrom lamina.cli.entry import main\n"
            f"sys.argv = ['lamina', *{list(argv)!r}]\n"
            "try:\n    main()\nexcept SystemExit as exit:\n    code = exit.code\n"
            "print(code, sorted(m for m in sys.modules if m.split('.')[0] == 'click'"
            " or m == 'lamina.cli.main'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    return out.stdout.strip().splitlines()


def test_fast_start_does_not_load_click() -> None:
    assert _fast_without_click("lint", "--no-shellcheck", CLEAN)[-1] == "0 []"


@pytest.mark.parametrize("args", [
    ["--help"], ["-h"], ["--", "Dockerfile"], ["--form", "json"], ["--format", "yaml"],
    ["--format"], ["--format", "--no-cache"], ["--no-cache=1"], ["--ignore", ""],
    ["-x", "Dockerfile"],
])
def test_what_the_fast_start_leaves_to_click(args: list[str]) -> None:
    assert parse_plain(args) is None


def test_plain_command_lines() -> None:
    request = parse_plain(["a", "--format=json", "-", "--ignore", "DL3008", "--ignore=SC2086",
                           "--no-cache", "--failure-threshold", "none", "--format", "sarif"])
    assert request is not None
    assert request.dockerfiles == ("a", "-")
    assert request.fmt == "sarif"  # the last one wins, as with click
    assert request.ignore == ("DL3008", "SC2086")
    assert request.no_cache and not request.no_shellcheck
    assert request.threshold == "none"
    assert parse_plain([]) == parse_plain(["--format", "tty"])


def test_format_choices_are_the_renderers() -> None:
    assert list(FORMATS) == sorted(RENDERERS)


def _layer(files: dict[str, tuple[bytes, int]]) -> bytes:
    """A tar layer of regular files (name -> content, mode)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, (data, mode) in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _add_image(store: Store, tag: str, layers: list[bytes]) -> None:
    with store.writing():
        got = [ingest_layer(store.blobs, io.BytesIO(layer)) for layer in layers]
        raw = json.dumps({"architecture": "amd64", "os": "linux",
                          "rootfs": {"type": "layers",
                                     "diff_ids": [str(g.diff_id) for g in got]}}).encode()
        config = store.blobs.put_bytes(raw)
        manifest = Manifest.build(Descriptor(mediatype.OCI_CONFIG, config, len(raw)),
                                  [Descriptor(g.media_type, g.digest, g.size) for g in got])
        store.blobs.put_bytes(manifest.raw)
        store.add_image(manifest.raw, layer_records={g.diff_id: g.record for g in got},
                        tags=[Reference.parse(tag)])


@pytest.fixture
def two_images(lamina_home: Path) -> None:
    """app:1 and app:2 on one base layer (image-spec layer.md: changesets and whiteouts):
    app:2 adds srv/new, deletes srv/old and changes srv/conf's mode."""
    store = Store(lamina_home)
    base = _layer({"srv/old": (b"x" * 2000, 0o644), "srv/conf": (b"k=v\n", 0o644)})
    _add_image(store, "app:1", [base])
    _add_image(store, "app:2", [base, _layer({"srv/new": (b"y" * 300, 0o644),
                                              "srv/.wh.old": (b"", 0o644),
                                              "srv/conf": (b"k=v\n", 0o600)})])


@pytest.mark.parametrize("argv", [
    ["diff", "app:1", "app:2"],
    ["diff", "app:2", "app:1", "--format", "json"],
    ["diff", "--format=json", "--no-packages", "app:1", "app:2"],
    ["diff", "--insecure", "app:1", "app:1"],
    ["diff", "app:1", "no-such:1"],  # a failure while doing the work: exit 1
    ["diff", "app:1"],
    ["diff", "app:1", "app:2", "app:3"],
    ["diff", "--format", "yaml", "app:1", "app:2"],
    ["diff", "--format"],
    ["diff", "--no-packages=1", "app:1", "app:2"],
    ["diff", "--frobnicate", "app:1", "app:2"],
    ["diff", "--help"],
    ["diff", "--config", "/no/such/lamina.toml", "app:1", "app:2"],
])
def test_fast_diff_answers_as_click_does(two_images: None, argv: list[str]) -> None:
    assert _run(argv, fast=True) == _run(argv, fast=False)


def test_fast_diff_does_not_load_click(two_images: None) -> None:
    lines = _fast_without_click("diff", "app:1", "app:2", "--format", "json")
    assert lines[-1] == "0 []"
    doc = json.loads("\n".join(lines[:-1]))
    assert [d["path"] for d in doc["added"]] == ["/srv/new"]
    assert [d["path"] for d in doc["removed"]] == ["/srv/old"]
    assert [(d["path"], d["what"]) for d in doc["changed"]] == [("/srv/conf", ["mode"])]


@pytest.mark.parametrize("args", [
    ["--help"], ["-h"], ["a"], ["a", "b", "c"], ["--", "a", "b"], ["--form", "json", "a", "b"],
    ["--format", "yaml", "a", "b"], ["--format"], ["--insecure=yes", "a", "b"],
    ["--config", "lamina.toml", "a", "b"],
])
def test_what_the_fast_diff_leaves_to_click(args: list[str]) -> None:
    assert diff_options.parse_plain(args) is None


def test_plain_diff_command_lines() -> None:
    request = diff_options.parse_plain(["--format=json", "a:1", "--no-packages", "b:2",
                                        "--format", "table", "--insecure"])
    assert request == diff_options.DiffRequest("a:1", "b:2", "table", True, True)
    assert diff_options.parse_plain(["a", "b"]) == diff_options.DiffRequest("a", "b")


@pytest.mark.parametrize("argv", [
    ["analyze", "app:2"],
    ["analyze", "app:2", "--format", "json"],
    ["analyze", "--format=json", "--insecure", "app:1"],
    ["analyze", "app:1", "no-such:1"],
    ["analyze", "no-such:1"],  # a failure while doing the work: exit 1
    ["analyze"],
    ["analyze", "--format", "yaml", "app:1"],
    ["analyze", "--depth", "1", "--layer", "1", "app:2"],
    ["analyze", "--ci", "app:2"],
    ["analyze", "--help"],
])
def test_fast_analyze_answers_as_click_does(two_images: None, argv: list[str]) -> None:
    assert _run(argv, fast=True) == _run(argv, fast=False)


def test_fast_analyze_does_not_load_click(two_images: None) -> None:
    lines = _fast_without_click("analyze", "app:2", "--format", "json")
    assert lines[-1] == "0 []"
    doc = json.loads("\n".join(lines[:-1]))
    assert [c["path"] for c in doc["layers"][1]["added"]] == ["/srv/new"]


@pytest.mark.parametrize("args", [
    ["--help"], [], ["a", "b"], ["--", "a"], ["--form", "json", "a"], ["--format", "yaml", "a"],
    ["--ci", "a"], ["--depth", "3", "a"], ["--html", "r.html", "a"], ["--insecure=1", "a"],
])
def test_what_the_fast_analyze_leaves_to_click(args: list[str]) -> None:
    assert analyze_options.parse_plain(args) is None


def test_plain_analyze_command_lines() -> None:
    assert analyze_options.parse_plain(["--format=json", "a:1", "--insecure"]) == \
        analyze_options.AnalyzeRequest("a:1", "json", True)
    assert analyze_options.parse_plain(["a"]) == analyze_options.AnalyzeRequest("a")
