"""The streamed JSON report is the text ``json.dumps`` makes of the whole report (RFC 8259).

``write`` encodes change lists a batch at a time, and added files without a
dict each; neither may change a byte of the output.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from lamina.analyze import report_json
from lamina.analyze.analysis import analyze_image
from lamina.analyze.findings import find_problems
from lamina.analyze.report_json import report, write
from lamina.client.image_source import OpenedImage
from lamina.store.store import Store
from tests.analyze import synth


def test_written_text_is_json_dumps_of_the_whole_report(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(tmp_path)
    image = synth.store_image(store, [
        [synth.d("a"), synth.f("a/x", 10), synth.f("a/ünïcode \"quoted\"\\", 3),
         synth.f("a/\u65e5\u672c", 4), synth.f("b/y", 5), synth.f("b/gone", 6)],
        [synth.f("a/x", 11), synth.wh("b/gone"), synth.f("c/new\ttab", 7)]
        + [synth.f(f"many/{n}", n) for n in range(30)],
    ])
    opened = OpenedImage(store, image, "x", "store")
    analysis = analyze_image(opened.image, opened.open_layer, index_layer=opened.layer_index)
    findings = find_problems(analysis)
    whole = json.dumps(report(analysis, findings, None, "store", 2), separators=(",", ":"))
    monkeypatch.setattr(report_json, "_BATCH", 7)  # several batches per list
    out = io.StringIO()
    write(report(analysis, findings, None, "store", 2, lazy=True), out)
    assert out.getvalue() == whole + "\n"
    layers = json.loads(out.getvalue())["layers"]
    assert {c["path"] for c in layers[0]["added"]} >= {"/a/ünïcode \"quoted\"\\", "/a/\u65e5\u672c"}
    assert [c["path"] for c in layers[1]["modified"]] == ["/a/x"]
    assert [c["path"] for c in layers[1]["deleted"]] == ["/b/gone"]
