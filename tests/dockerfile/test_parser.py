"""The Dockerfile front end: directives, stages, flags, forms, heredocs, and errors that name
the line (Dockerfile reference: "Parser directives", "FROM", "RUN --mount", "Here-Documents")."""

from __future__ import annotations

from pathlib import Path

import pytest

from lamina.dockerfile import (
    DirectiveError,
    DockerfileSyntaxError,
    FlagError,
    parse,
    parse_path,
)

FULL = """\
# syntax=docker/dockerfile:1
ARG BASE=debian
ARG TAG="bookworm-slim"
FROM --platform=$BUILDPLATFORM ${BASE}:${TAG} AS Build
RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \\
    --mount=type=tmpfs,target=/tmp \\
    apt-get update && \\
    apt-get install -y gcc
RUN <<EOF
echo one
echo two
EOF
FROM build
COPY --from=build --chown=1000:1000 --chmod=755 --link /out /app
ENV A=1 B="two words"
CMD ["/app/run", "--flag"]
ENTRYPOINT /app/run
ONBUILD RUN echo later
"""


def test_stages_and_global_args() -> None:
    """Reference, "Understand how ARG and FROM interact": ARGs before FROM are global."""
    df = parse(FULL)
    assert df.directives.syntax == "docker/dockerfile:1"
    assert [i.keyword for i in df.global_args] == ["ARG", "ARG"]
    assert df.global_arg_defaults() == {"BASE": "debian", "TAG": "bookworm-slim"}
    first, second = df.stages
    assert first.name == "build"  # stage names compare case-insensitively
    assert first.platform == "$BUILDPLATFORM"
    assert df.resolved_base(first) == "debian:bookworm-slim"
    assert second.base == "build" and second.name is None
    assert df.stage_named("BUILD") is first


def test_run_flags_mounts_and_lines() -> None:
    """Reference, "RUN --mount": type, target and options of each mount."""
    run = parse(FULL).stages[0].instructions[0]
    assert run.keyword == "RUN" and (run.start_line, run.end_line) == (5, 8)
    assert [(m.type, m.target) for m in run.mounts] == [
        ("cache", "/var/cache/apt"),
        ("tmpfs", "/tmp"),
    ]
    assert run.mounts[0].option("sharing") == "locked"
    assert run.mounts[0].covers("/var/cache/apt/archives")
    assert not run.mounts[0].covers("/var/lib/apt/lists")
    assert run.shell_form
    assert "apt-get install -y gcc" in run.scripts[0]


def test_heredoc_is_the_script() -> None:
    """Reference, "Here-Documents": RUN <<EOF runs the heredoc body as the script."""
    run = parse(FULL).stages[0].instructions[1]
    assert run.heredocs[0].name == "EOF"
    assert run.scripts == ("echo one\necho two\n",)
    assert (run.start_line, run.end_line) == (9, 12)


def test_heredoc_quoting_and_tab_stripping() -> None:
    """Reference, "Here-Documents": a quoted delimiter disables expansion, <<- strips tabs."""
    df = parse("FROM a\nRUN <<-'EOT' bash\n\techo $x\nEOT\n")
    doc = df.stages[0].instructions[0].heredocs[0]
    assert doc.expand is False and doc.strip_tabs is True
    assert doc.body == "echo $x\n"
    assert df.stages[0].instructions[0].scripts == ("bash", "echo $x\n")


def test_exec_form_shell_c_is_a_script() -> None:
    """Reference, "RUN": the exec form does no shell processing unless it runs a shell."""
    df = parse('FROM a\nRUN ["sh", "-c", "echo hi"]\nRUN ["echo", "hi"]\n')
    run, plain = df.stages[0].instructions
    assert run.scripts == ("echo hi",)
    assert plain.scripts == ()


def test_copy_flags_and_json_forms() -> None:
    """Reference, "COPY --from/--chown/--chmod/--link"; exec (JSON) form vs shell form."""
    stage = parse(FULL).stages[1]
    copy, env, cmd, entrypoint, onbuild = stage.instructions
    assert copy.flag("from") == "build" and copy.flag("chown") == "1000:1000"
    assert copy.flag("chmod") == "755" and copy.flag("link") == "" and copy.flag("x") is None
    assert copy.arguments == ("/out", "/app")
    assert env.pairs() == [("A", "1"), ("B", '"two words"')]
    assert cmd.json_form and cmd.arguments == ("/app/run", "--flag")
    assert entrypoint.shell_form and entrypoint.command_text == "/app/run"
    assert onbuild.trigger is not None and onbuild.trigger.keyword == "RUN"
    assert onbuild.trigger.start_line == onbuild.start_line


def test_onbuild_trigger_keeps_its_flags() -> None:
    """Reference, "ONBUILD": the trigger is a full instruction, flags included."""
    df = parse("FROM a\nONBUILD COPY --from=build --chown=1:1 /out /app\n")
    (onbuild,) = df.stages[0].instructions
    assert onbuild.trigger is not None
    assert onbuild.trigger.flag("from") == "build" and onbuild.trigger.flag("chown") == "1:1"
    assert onbuild.trigger.arguments == ("/out", "/app")


def test_escape_directive_changes_continuation() -> None:
    """Reference, "escape": the backtick becomes the line-continuation character."""
    df = parse("# escape=`\nFROM a\nRUN echo a `\n  b\n")
    assert df.escape == "`"
    run = df.stages[0].instructions[0]
    assert run.command_text.split() == ["echo", "a", "b"] and run.end_line == 4


def test_directives_stop_at_first_comment() -> None:
    """Reference: once a comment or blank line is processed, directives are not looked for."""
    df = parse("# a comment\n# escape=`\nFROM a\n")
    assert df.escape == "\\"


@pytest.mark.parametrize(
    ("text", "error", "message"),
    [
        ("FROM a\nFOO bar\n", DockerfileSyntaxError, "Dockerfile:2: unknown instruction 'FOO'"),
        ("RUN x\nFROM a\n", DockerfileSyntaxError, "Dockerfile:1: RUN before the first FROM"),
        ("ARG A=1\n", DockerfileSyntaxError, "no FROM instruction"),
        ("", DockerfileSyntaxError, "no instructions"),
        ("FROM a\nRUN\n", DockerfileSyntaxError, "Dockerfile:2: RUN requires at least one"),
        ("FROM a b c d\n", DockerfileSyntaxError, "Dockerfile:1: FROM takes an image"),
        ("FROM a AS 1x\n", DockerfileSyntaxError, "invalid stage name"),
        ("FROM a AS x\nFROM b AS x\n", DockerfileSyntaxError, "Dockerfile:2: duplicate stage"),
        ("FROM a\nRUN <<EOF\necho\n", DockerfileSyntaxError, "Dockerfile:2: unterminated heredoc"),
        ("FROM a\nRUNN x\n", DockerfileSyntaxError, r"'RUNN' \(did you mean RUN\?\)"),
        ("FROM a\nCOPY --form=x a b\n", FlagError, "Dockerfile:2: COPY does not take --form"),
        ("FROM a\nRUN --mount=type=nfs,target=/x a\n", FlagError, "type 'nfs' is unknown"),
        ("FROM a\nRUN --mount=type=cache,target=/c,size=1m a\n", FlagError,
         "type=cache does not take size"),
        ("FROM a\nRUN --mount=type=bind,target=/c,rw=maybe a\n", FlagError, "not a boolean"),
        ("FROM a\nRUN --mount=type=bind,target=/c,colour=red a\n", FlagError,
         "unknown key 'colour'"),
        ("FROM a\nRUN --mount=type=secret,from=x a\n", FlagError, "takes no from="),
        ("FROM a\nRUN --mount=target a\n", FlagError, "must be a key=value pair"),
        ("FROM a\nONBUILD FROM b\n", DockerfileSyntaxError, "not allowed as an ONBUILD"),
        ("# escape=x\nFROM a\n", DirectiveError, "invalid escape token"),
        ("# escape=`\n# escape=\\\nFROM a\n", DirectiveError, "Dockerfile:2: only one escape"),
    ],
)
def test_errors_name_line_and_problem(text: str, error: type[Exception], message: str) -> None:
    """A Dockerfile Docker would refuse is refused here, naming the line and the problem."""
    with pytest.raises(error, match=message):
        parse(text)


def test_parse_path_reads_file_and_names_it(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile.dev"
    path.write_text("FROM a\nBAD x\n")
    with pytest.raises(DockerfileSyntaxError, match=r"Dockerfile\.dev:2: unknown instruction"):
        parse_path(path)
    with pytest.raises(DockerfileSyntaxError, match="no such Dockerfile"):
        parse_path(tmp_path / "missing")
