"""ARG/ENV scope (Dockerfile reference: "ARG" > "Scope", "Using ARG variables", "ENV")."""

from __future__ import annotations

from lamina.dockerfile import global_args, parse, scope_before

TEXT = """\
ARG BASE=debian
ARG VERSION=1.0
FROM ${BASE}:bookworm-slim AS build
RUN echo "$VERSION is empty here: global ARGs are for FROM only"
ARG VERSION
ARG USER=app
ENV HOME=/home/${USER} USER=svc
ARG USER=ignored
RUN echo marker
FROM build
ENV APP=/srv
RUN echo final
"""


def test_global_args_apply_to_from_lines_with_build_args() -> None:
    df = parse(TEXT)
    assert global_args(df) == {"BASE": "debian", "VERSION": "1.0"}
    assert global_args(df, {"BASE": "ubuntu"})["BASE"] == "ubuntu"


def test_stage_sees_a_global_arg_only_after_redeclaring_it() -> None:
    df = parse(TEXT)
    stage = df.stages[0]
    first_run, redeclare = stage.instructions[0], stage.instructions[1]
    assert "VERSION" not in scope_before(df, stage, first_run).variables
    after = scope_before(df, stage, stage.instructions[2])
    assert after.variables["VERSION"] == "1.0"
    assert redeclare.keyword == "ARG"


def test_env_overrides_arg_and_expands_with_the_scope() -> None:
    """Reference: "Environment variables defined using the ENV instruction always override
    an ARG instruction of the same name"."""
    df = parse(TEXT)
    stage = df.stages[0]
    marker = stage.instructions[-1]
    scope = scope_before(df, stage, marker)
    assert scope.env["HOME"] == "/home/app"
    assert scope.variables["USER"] == "svc"


def test_build_args_override_declared_defaults_only() -> None:
    df = parse(TEXT)
    stage = df.stages[0]
    scope = scope_before(df, stage, build_args={"USER": "bob", "UNDECLARED": "x"})
    assert scope.env["HOME"] == "/home/bob"
    assert "UNDECLARED" not in scope.variables
    assert scope_before(df, stage, build_args={"VERSION": "2"}).args["VERSION"] == "2"


def test_env_persists_into_a_stage_built_from_an_earlier_one_args_do_not() -> None:
    df = parse(TEXT)
    final = df.stages[1]
    scope = scope_before(df, final)
    assert scope.env == {"HOME": "/home/app", "USER": "svc", "APP": "/srv"}
    assert scope.args == {}
