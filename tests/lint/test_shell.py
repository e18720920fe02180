"""RUN bodies parsed as shell with tree-sitter-bash into simple commands (issue 8: "not
matched with regexes on the raw line"; issue 17: the whole POSIX/bash grammar)."""

from __future__ import annotations

from lamina.lint.argv import split_invocation
from lamina.lint.shell import parse_script, unwrap


def test_lists_and_pipelines_split_into_commands() -> None:
    script = parse_script("apt-get update && apt-get install -y a; curl -s x | sh -s -- -y")
    argvs = [c.argv for c in script.commands]
    assert argvs == [
        ("apt-get", "update"),
        ("apt-get", "install", "-y", "a"),
        ("curl", "-s", "x"),
        ("sh", "-s", "--", "-y"),
    ]
    curl, sh = script.commands[2:]
    assert curl.pipeline == sh.pipeline and (curl.stage, sh.stage) == (0, 1)


def test_nested_commands_are_found() -> None:
    script = parse_script(
        "if [ -f x ]; then (cd /src && make); fi; for p in a b; do echo $(id -u); done; "
        "sh -c 'pip install flask'"
    )
    names = [c.name for c in script.commands]
    assert names == ["[", "cd", "make", "echo", "id", "sh", "pip"]
    pip = script.commands[-1]
    assert pip.parent is not None and script.commands[pip.parent].name == "sh"


def test_quotes_removed_and_assignments_kept_apart() -> None:
    script = parse_script("PIP_NO_CACHE_DIR=1 pip install \"flask==3.0.3\"")
    (command,) = script.commands
    assert command.argv == ("pip", "install", "flask==3.0.3")
    assert command.assignments == ("PIP_NO_CACHE_DIR=1",)


def test_wrappers_are_looked_through() -> None:
    assert unwrap(("sudo", "-u", "app", "-E", "apt-get", "install")) == ("apt-get", "install")
    assert unwrap(("env", "A=1", "B=2", "pip", "install")) == ("pip", "install")
    assert unwrap(("nice", "-n", "5", "make")) == ("make",)


def test_case_functions_arithmetic_and_heredocs_parse() -> None:
    script = parse_script(
        'set -eux; case "$(dpkg --print-architecture)" in amd64) a=x ;; *) exit 1 ;; esac\n'
        "f() { apt-get update; }; f; echo $(( 2 * 3 )); arr=(a b); [[ -n ${arr[0]} ]]\n"
        "cat > /etc/x <<EOF\n$(id -u)\nEOF\n"
        "while read -r l; do echo \"$l\"; done <<< 'x'"
    )
    assert script.parsed, script.error
    names = [c.name for c in script.commands]
    assert names == ["set", "dpkg", "", "exit", "apt-get", "f", "echo", "", "[[", "cat", "id",
                     "read", "echo"]


def test_pipeline_stages_through_redirections() -> None:
    script = parse_script("a | b 2>/dev/null | c")
    assert [(c.name, c.stage) for c in script.commands] == [("a", 0), ("b", 1), ("c", 2)]
    assert len({c.pipeline for c in script.commands}) == 1 and script.pipes


def test_unparsable_script_falls_back_to_words() -> None:
    script = parse_script("if true; then apt-get install -y 'a b' && curl x | sh; done")
    assert not script.parsed and script.error and "line 1" in script.error
    assert [c.argv for c in script.commands] == [
        ("true",), ("apt-get", "install", "-y", "a b"), ("curl", "x"), ("sh",)]
    curl, sh = script.commands[2:]
    assert curl.pipeline == sh.pipeline and (curl.stage, sh.stage) == (0, 1)


def test_split_invocation_options_with_values() -> None:
    inv = split_invocation(("-o", "Foo=bar", "install", "-qy", "--x=1", "pkg"), {"-o"})
    assert inv.subcommand == "install"
    assert inv.operands == ("pkg",)
    assert inv.values("-o") == ["Foo=bar"]
    assert inv.has_short("y") and inv.has("--x")
