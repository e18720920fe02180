"""RUN bodies parsed as shell with bashlex into simple commands (issue 8: "not matched with
regexes on the raw line")."""

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


def test_unparsable_script_reports_why() -> None:
    script = parse_script("case $x in a) echo;; esac")
    assert not script.parsed and script.commands == ()
    assert script.error


def test_split_invocation_options_with_values() -> None:
    inv = split_invocation(("-o", "Foo=bar", "install", "-qy", "--x=1", "pkg"), {"-o"})
    assert inv.subcommand == "install"
    assert inv.operands == ("pkg",)
    assert inv.values("-o") == ["Foo=bar"]
    assert inv.has_short("y") and inv.has("--x")
