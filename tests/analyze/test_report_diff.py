"""``lamina diff --format json`` text is ``json.dumps(doc, indent=2)`` of the diff (RFC 8259).

The file lists are laid out by templates instead of the (slow) indenting
encoder; the text must be the same byte for byte, escapes included.
"""

from __future__ import annotations

import json

from lamina.analyze.diff import ADDED, CHANGED, REMOVED, FileDiff, ImageDiff, PackageDiff
from lamina.analyze.report_diff import diff_doc, diff_json


def test_text_is_the_indenting_encoders() -> None:
    result = ImageDiff([
        FileDiff("/new", ADDED, "file", 0, 10),
        FileDiff("/ünï \"q\"\\\t\u65e5", ADDED, "symlink", 0, 0),
        FileDiff("/gone", REMOVED, "dir", 4096, 0),
        FileDiff("/etc/x", CHANGED, "file", 1, 2, ("size", "content")),
        FileDiff("/etc/y", CHANGED, "file", 1, 1, ()),
    ], [PackageDiff("deb", "libc6", "upgraded", "2.36-1", "2.36-9")])
    text = diff_json(result, "a:1", "b:1")
    assert text == json.dumps(diff_doc(result, "a:1", "b:1"), indent=2)
    assert json.loads(text)["changed"][0]["what"] == ["size", "content"]


def test_empty_lists_and_no_inventory() -> None:
    result = ImageDiff([FileDiff("/only", REMOVED, "file", 3, 0)], None)
    assert diff_json(result, "a", "b") == json.dumps(diff_doc(result, "a", "b"), indent=2)
    assert json.loads(diff_json(ImageDiff(), "a", "b"))["added"] == []
