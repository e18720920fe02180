"""The builder's pure parts: .dockerignore rules, docker's source checksums, Go formatting,
ARG scoping, stage planning (Dockerfile reference; moby's classic builder as the oracle)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lamina.build import goformat
from lamina.build.buildargs import BuildArgs
from lamina.build.dockerignore import IgnoreFileError, IgnoreMatcher, parse_patterns
from lamina.build.metadata import InstructionError, parse_duration
from lamina.build.plan import PlanError, make_plan
from lamina.build.sourcehash import source_sum
from lamina.dockerfile import parse


def _ignored(patterns: str, path: str) -> bool:
    return IgnoreMatcher(parse_patterns(patterns)).excluded(path)


@pytest.mark.parametrize(("patterns", "path", "excluded"), [
    ("*.log", "a.log", True),
    ("*.log", "dir/a.log", False),  # * stays in one path component
    ("**/*.log", "dir/deep/a.log", True),
    ("**/*.log", "a.log", True),  # **/ also matches no directory
    ("build", "build/out/x", True),  # a matched directory covers its contents
    ("*.log\n!keep.log", "keep.log", False),
    ("*.log\n!keep.log\nkeep.log", "keep.log", True),  # the last match decides
    ("/docs/*.md", "docs/a.md", True),  # a leading / is dropped
    ("docs/../secret", "secret", True),  # patterns are cleaned like paths
    ("a?c", "abc", True),
    ("a?c", "a/c", False),
    ("[a-c].txt", "b.txt", True),
    ("# comment\n\n", "# comment", False),
])
def test_dockerignore_rules(patterns: str, path: str, excluded: bool) -> None:
    assert _ignored(patterns, path) is excluded


def test_dockerignore_bad_pattern() -> None:
    with pytest.raises(IgnoreFileError, match="unclosed"):
        parse_patterns("[abc")
    with pytest.raises(IgnoreFileError, match="followed by a pattern"):
        parse_patterns("!")


def _everything(_rel: str) -> bool:
    return True


def test_source_sums_are_dockers(tmp_path: Path) -> None:
    """Values read from `docker history` of DOCKER_BUILDKIT=0 builds of the same files."""
    (tmp_path / "a.txt").write_text("hello\n")
    (tmp_path / "a.txt").chmod(0o644)
    sub = tmp_path / "sub" / "deep"
    sub.mkdir(parents=True)
    (tmp_path / "sub").chmod(0o755)
    sub.chmod(0o755)
    (tmp_path / "sub" / "x").write_text("x")
    (tmp_path / "sub" / "x").chmod(0o600)
    (sub / "y").write_text("y\n")
    (sub / "y").chmod(0o644)
    assert source_sum(tmp_path, "a.txt", _everything) == (
        "file:00ec16333078d287782d462baefc8bb9eb0231dc3aefba3ca3e2f7e5cf0cadda")
    assert source_sum(tmp_path, "sub", _everything) == (
        "dir:5bd5b5f9fa3b645b46a4f2f03ac402e41516e139398fb514917e033229b6dbb4")


def test_go_formatting() -> None:
    assert goformat.quote_list(["sh", "-c", 'echo "hi"\n']) == '["sh" "-c" "echo \\"hi\\"\\n"]'
    assert goformat.plain_list(["/data", "/d2"]) == "[/data /d2]"
    assert [goformat.duration(n) for n in (0, 5_000_000_000, 300_000_000_000, 1_500_000_000,
                                           3_600_000_000_000, 300_000_000)] == [
        "0s", "5s", "5m0s", "1.5s", "1h0m0s", "300ms"]
    assert [goformat.quote_rune(n) for n in (0, 3, 10, 65)] == ["'\\x00'", "'\\x03'", "'\\n'", "'A'"]


def test_durations() -> None:
    assert parse_duration("1m30s", "interval") == 90_000_000_000
    assert parse_duration("250ms", "timeout") == 250_000_000
    with pytest.raises(InstructionError, match="invalid duration"):
        parse_duration("5 minutes", "interval")


def test_arg_scoping() -> None:
    """Dockerfile reference "ARG": defaults, --build-arg, meta args re-declared, ENV wins,
    proxy args without declaration but left out of history."""
    args = BuildArgs({"V": "cli", "HTTP_PROXY": "http://proxy", "UNUSED": "x"})
    args.add_meta("BASE", "busybox")
    args.add_meta("V", "meta")
    stage = args.for_stage()
    assert stage.all_allowed() == {"HTTP_PROXY": "http://proxy"}
    stage.declare("BASE", None)  # re-declared without a default: takes the meta value
    stage.declare("W", "dflt")
    assert stage.all_allowed() == {"BASE": "busybox", "W": "dflt", "HTTP_PROXY": "http://proxy"}
    assert stage.filter_allowed(["W=env"]) == ["BASE=busybox", "HTTP_PROXY=http://proxy"]
    assert stage.history_prefix([]) == ["|2", "BASE=busybox", "W=dflt"]
    assert args.unused() == ["UNUSED"]


def test_plan_skips_unused_stages_and_orders_dependencies() -> None:
    dockerfile = parse("FROM scratch AS a\nFROM scratch AS b\nFROM a AS c\nCOPY --from=0 / /\n"
                       "FROM scratch\nCOPY --from=c / /\n")
    plan = make_plan(dockerfile, None, lambda s: s.base)
    assert [s.index for s in plan.stages] == [0, 2, 3]
    assert plan.deps[3] == frozenset({2}) and plan.deps[2] == frozenset({0})
    assert [s.index for s in make_plan(dockerfile, "b", lambda s: s.base).stages] == [1]
    with pytest.raises(PlanError, match="failed to reach build target nope"):
        make_plan(dockerfile, "nope", lambda s: s.base)
    later = parse("FROM scratch\nCOPY --from=late / /\nFROM scratch AS late\n")
    with pytest.raises(PlanError, match="defined later"):
        make_plan(later, "late", lambda s: s.base)


def test_remembered_sums_follow_file_changes(tmp_path: Path) -> None:
    """Sums kept between builds are reused only while the file is unchanged."""
    from lamina.build.sourcehash import SumMemo

    path = tmp_path / "app.py"
    path.write_text("v1\n")
    first = SumMemo()
    v1 = source_sum(tmp_path, "app.py", _everything, memo=first)
    again = SumMemo(first.used)
    assert source_sum(tmp_path, "app.py", _everything, memo=again) == v1
    assert again.used == first.used  # served from memory
    path.write_text("v2\n")
    changed = SumMemo(first.used)
    v2 = source_sum(tmp_path, "app.py", _everything, memo=changed)
    assert v2 != v1 and v2 == source_sum(tmp_path, "app.py", _everything)
