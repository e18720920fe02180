"""What a build says (issue 13): the transcript reports each event once, to the progress
output and into the replay record; a replay shows the record through any output exactly
as the build showed it. And the shape the split leaves: steps never import the Builder."""

from __future__ import annotations

import ast
import io
import json
import re
from pathlib import Path

import pytest

import lamina.build
from lamina.build.plainprogress import PlainProgress, RawJsonProgress
from lamina.build.progress import Progress
from lamina.build.replay import RECORDS, replay
from lamina.build.transcript import Transcript


def _cached_build(progress: Progress, warn: list[str]) -> Transcript:
    """A fully cached build of ``ARG`` + a two-step stage, reported as the builder does."""
    transcript = Transcript(progress, warn.append, replayable=True)
    transcript.steps(3)
    transcript.global_arg(1, "ARG V=1")
    stage = transcript.stage(0, progress)
    stage.stage("", 2, 2)
    stage.step(2, "FROM scratch")
    stage.step(3, "LABEL a=b")
    stage.cached()
    stage.result("0123456789ab")
    transcript.finish("0123456789ab", ["x:1"])
    return transcript


def _shown(output: io.BytesIO) -> str:
    text = output.getvalue().decode()
    text = re.sub(r" DONE \d+\.\ds$", " DONE", text, flags=re.M)  # durations vary
    return re.sub(r'"(started|completed|timestamp)":"[^"]+"', r'"\1":"T"', text)


@pytest.mark.parametrize("kind", [Progress, PlainProgress, RawJsonProgress])
def test_replay_shows_what_the_build_showed(kind: type[Progress], tmp_path: Path) -> None:
    (tmp_path / "index.json").write_text(json.dumps({"tags": {}, "images": {}}))
    live = io.BytesIO()
    progress = kind(live)
    _cached_build(progress, []).save(tmp_path / RECORDS, "key", "sha256:0123456789ab", {})
    progress.finish()
    again = io.BytesIO()
    assert replay(tmp_path, "key", kind(again)) == "sha256:0123456789ab"
    assert _shown(again) == _shown(live)


def test_each_output_words_the_events_its_own_way(tmp_path: Path) -> None:
    classic, plain = io.BytesIO(), io.BytesIO()
    _cached_build(Progress(classic), [])
    progress = PlainProgress(plain)
    _cached_build(progress, [])
    progress.finish()
    assert classic.getvalue().decode() == (
        "Step 1/3 : ARG V=1\nStep 2/3 : FROM scratch\nStep 3/3 : LABEL a=b\n"
        " ---> Using cache\n ---> 0123456789ab\n"
        "Successfully built 0123456789ab\nSuccessfully tagged x:1\n")
    assert _shown(plain) == (
        "#2 [1/2] FROM scratch\n#2 DONE\n#3 [2/2] LABEL a=b\n#3 CACHED\n"
        "#4 exporting to image\n#4 writing image 0123456789ab done\n#4 naming to x:1 done\n"
        "#4 DONE\n")


def test_a_warning_makes_the_build_unreplayable(tmp_path: Path) -> None:
    """Replays print no warnings, so a build that warned is not recorded (and an older record
    of the same request is forgotten)."""
    (tmp_path / "index.json").write_text(json.dumps({"tags": {}, "images": {}}))
    _cached_build(Progress(io.BytesIO()), []).save(tmp_path / RECORDS, "key", "sha256:0123456789ab", {})
    warnings: list[str] = []
    transcript = _cached_build(Progress(io.BytesIO()), warnings)
    transcript.warn("warning: FROM busybox has no tag; using busybox:latest")
    transcript.save(tmp_path / RECORDS, "key", "sha256:0123456789ab", {})
    assert warnings and replay(tmp_path, "key", Progress(io.BytesIO())) is None


def test_steps_never_import_the_builder() -> None:
    """Steps see the build through StepContext; only the multi-platform driver, which runs
    one Builder per platform, imports builder.py (the CLI does too, from above)."""
    importers = set()
    for path in Path(lamina.build.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([node.module] if isinstance(node, ast.ImportFrom)
                     else [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            if "lamina.build.builder" in names:
                importers.add(path.stem)
    assert importers == {"multiplatform"}
