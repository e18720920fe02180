"""BuildKit's build checks (docs.docker.com/reference/build-checks) through `lamina build
--check` and `# check=`: each one BuildKit runs by default is found, by name and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from lamina.build.buildchecks import CHECKS
from lamina.lint.catalog import all_rules
from tests.build.twin import write_context
from tests.tools import lamina

# One Dockerfile that trips every mapped check once (line numbers matter: the WARN lines
# name them).
DOCKERFILE = """\
ARG TAG
from busybox:$TAG AS Build
RUN echo one && \\

    echo two
ENV GREETING hello
EXPOSE 8080/TCP
EXPOSE 127.0.0.1:80:80
ENV API_TOKEN=x
WORKDIR relative
MAINTAINER someone
CMD echo hi
CMD echo again
copy secret.key /k
FROM --platform=linux/amd64 busybox:1.36 AS context
FROM --platform=$TARGETPLATFORM busybox:$VERSON
"""

EXPECTED = {
    "InvalidDefaultArgInFrom": 2, "StageNameCasing": 2, "FromAsCasing": 2,
    "ConsistentInstructionCasing": 2, "NoEmptyContinuation": 3, "LegacyKeyValueFormat": 6,
    "ExposeProtoCasing": 7, "ExposeInvalidFormat": 8, "SecretsUsedInArgOrEnv": 9,
    "WorkdirRelativePath": 10, "MaintainerDeprecated": 11, "JSONArgsRecommended": 12,
    "MultipleInstructionsDisallowed": 13, "CopyIgnoredFile": 14,
    "FromPlatformFlagConstDisallowed": 15, "ReservedStageName": 15,
    "UndefinedArgInFrom": 16, "RedundantTargetPlatform": 16,
}


def test_every_mapped_check_is_a_registered_lint_rule() -> None:
    registered = {rule.id for rule in all_rules()}
    assert set(CHECKS.values()) <= registered


def test_check_finds_each_of_buildkits_checks(tmp_path: Path) -> None:
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": DOCKERFILE, "secret.key": "k\n",
                                           ".dockerignore": "*.key\n"})
    result = lamina("build", "--check", ctx)
    assert result.exit_code == 1
    warned = {line.split(":")[1].strip() for line in result.stdout.splitlines()
              if line.startswith("WARN: ")}
    assert warned == set(EXPECTED), result.stdout
    for name, line in EXPECTED.items():
        assert any(f"WARN: {name}:" in out and f"(line {line})" in out
                   for out in result.stdout.splitlines()), (name, result.stdout)
    assert 'Attempting to Copy file "secret.key" that is excluded by .dockerignore' \
        in result.stdout

    (ctx / "Dockerfile").write_text("# check=skip=CopyIgnoredFile,StageNameCasing\n" + DOCKERFILE)
    skipped = lamina("build", "--check", ctx)
    assert "CopyIgnoredFile" not in skipped.stdout and "StageNameCasing" not in skipped.stdout
    (ctx / ".dockerignore").write_text("*.key\n!secret.key\n")  # exceptions: BuildKit is silent
    (ctx / "Dockerfile").write_text(DOCKERFILE)
    assert "CopyIgnoredFile" not in lamina("build", "--check", ctx).stdout


@pytest.mark.integration
def test_undefined_var_reads_the_base_images_environment(busybox_base: str,
                                                          tmp_path: Path) -> None:
    """UndefinedVar: global ARGs are not seen in a stage unless declared again; the base
    image's Env and a parent stage's ENV are; a base not in the store is not judged."""
    base = write_context(tmp_path / "base", {
        "Dockerfile": f"FROM {busybox_base}\nENV FROM_BASE=/srv\n"})
    assert lamina("build", "-t", "envbase:1", base).exit_code == 0
    dockerfile = (
        "ARG VERSION=1\n"
        "FROM envbase:1 AS base\n"
        "ENV APP=/app\n"
        "COPY a $APP/$VERSION/\n"
        "WORKDIR $APPP\n"
        "WORKDIR $FROM_BASE\n"
        "ARG VERSION\n"
        "COPY a $VERSION/\n"
        "FROM base\n"
        "WORKDIR $APP\n"
        "FROM some/image-not-in-the-store:1\n"
        "WORKDIR $UNKNOWABLE\n")
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": dockerfile, "a": "a\n"})
    result = lamina("build", "--check", ctx)
    undefined = [line for line in result.stdout.splitlines() if "UndefinedVar" in line]
    assert len(undefined) == 2, result.stdout
    assert "Usage of undefined variable '$VERSION'" in undefined[0]
    assert undefined[0].endswith("(line 4)")
    assert "'$APPP' (did you mean $APP?)" in undefined[1] and undefined[1].endswith("(line 5)")


def test_experimental_definition_description(tmp_path: Path) -> None:
    """InvalidDefinitionDescription runs only when # check=experimental= names it: the comment
    right above ARG or FROM ... AS must start with the name it describes."""
    body = ("# the base image to build on\n"
            "ARG BASE=busybox:1.36\n"
            "# VERSION of the tool\n"
            "ARG VERSION=1\n"
            "# Build stage\n"
            "FROM $BASE AS build\n"
            "#\n"
            "# comments after a bare # line still count\n"
            "FROM $BASE AS final\n")
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": body})
    assert "InvalidDefinitionDescription" not in lamina("build", "--check", ctx).stdout
    (ctx / "Dockerfile").write_text("# check=experimental=InvalidDefinitionDescription\n" + body)
    result = lamina("build", "--check", ctx)
    found = [line for line in result.stdout.splitlines() if "InvalidDefinitionDescription" in line]
    assert len(found) == 3, result.stdout
    assert "Comment for ARG should follow the format: `# BASE <description>` (line 3)" in found[0]
    assert found[1].endswith("(line 7)") and "`# build <description>`" in found[1]
    assert found[2].endswith("(line 10)")
