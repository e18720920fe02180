"""``lamina lint --image``: findings measured in bytes of the image built from the Dockerfile
(issue 8, "Beyond hadolint: findings measured in bytes").

One image per module, built by docker's classic builder from the busybox base, whose steps
leave known bytes where the package managers keep their caches (busybox has no apt, pip,
npm or apk: each RUN calls the manager, which fails harmlessly, then writes the files the
manager would have left).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest

from lamina.dockerfile import parse
from lamina.lint.costs.join import join
from lamina.lint.costs.steps import classify, dockerfile_steps, history_steps
from lamina.oci.config import HistoryEntry
from tests.base_images import busybox_rootfs_tar
from tests.tools import lamina, require_tool, run

APT_BIG, APT_SMALL, PIP, NPM, HEADER = 18200, 300, 7000, 4000, 1234
TAG = "lamina-test/lint-costs:1"
SARIF_SCHEMA = Path(__file__).parent / "sarif-schema-2.1.0.json"

# Line numbers matter: the tests name them. ARG makes the classic builder prefix every later
# RUN's history entry with "|1 FLAVOUR=plain"; SHELL changes the prefix of later entries.
DOCKERFILE = f"""\
FROM {{base}}
ARG FLAVOUR=plain
RUN apt-get update || true; mkdir -p /var/lib/apt/lists/partial \\
 && head -c {APT_BIG} /dev/urandom > /var/lib/apt/lists/big \\
 && head -c {APT_SMALL} /dev/urandom > /var/lib/apt/lists/partial/small
RUN pip install flask || true; mkdir -p /root/.cache/pip/http && head -c {PIP} /dev/urandom > /root/.cache/pip/http/0a1b
RUN rm -rf /root/.cache/pip
COPY package.json package-lock.json /app/
WORKDIR /app
RUN npm install || true; mkdir -p /root/.npm/_cacache && head -c {NPM} /dev/urandom > /root/.npm/_cacache/index-v5
RUN apk add curl || true
RUN apt-get install -y --no-install-recommends gcc || true; mkdir -p /usr/include && head -c {HEADER} /dev/urandom > /usr/include/zlib.h
RUN ["/bin/sh", "-c", "echo $FLAVOUR > /flavour"]
SHELL ["/bin/sh", "-ec"]
ENV LAMINA=1
RUN echo clean > /clean
CMD ["sh"]
RUN apk add --virtual .tools curl || true; mkdir -p /etc/apk/cache && touch /etc/apk/cache/x.idx
"""  # noqa: E501
STEPS = 15  # instructions after FROM: one history entry each


@dataclass(frozen=True)
class Built:
    archive: Path
    context: Path
    dockerfile: str  # the text, FROM filled in


@pytest.fixture(scope="module")
def built(docker: str, busybox_image: str, tmp_path_factory: pytest.TempPathFactory) -> Built:
    context = tmp_path_factory.mktemp("lint-costs")
    text = DOCKERFILE.format(base=busybox_image)
    (context / "Dockerfile").write_text(text)
    (context / "package.json").write_text("{}\n")
    (context / "package-lock.json").write_text("{}\n")
    proc = subprocess.run([docker, "build", "-q", "-t", TAG, str(context)],
                          env={**os.environ, "DOCKER_BUILDKIT": "0"}, capture_output=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr.decode()[-3000:]
    archive = context.parent / "lint-costs.tar"
    run([docker, "save", "-o", str(archive), TAG])
    return Built(archive, context, text)


def _write(built: Built, text: str, name: str = "Dockerfile.variant") -> Path:
    path = built.context / name
    path.write_text(text)
    return path


def _json(image: str | Path, dockerfile: Path) -> tuple[dict[str, Any], str]:
    result = lamina("lint", "--image", image, "--format", "json", "--failure-threshold",
                    "none", dockerfile)
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    return doc["files"][0], result.stderr


def _costs(document: dict[str, Any]) -> dict[tuple[int, str], tuple[int | None, int | None]]:
    return {(f["line"], f["rule"]): (f.get("cost_bytes"), f.get("cost_files"))
            for f in document["findings"]}


EXPECTED = {
    (3, "LM201"): (APT_BIG + APT_SMALL, 2),
    (6, "LM210"): (PIP, 1),
    (6, "LM301"): (0, 0),
    (7, "LM301"): (PIP, 1),  # the rm deletes what the RUN before it shipped
    (10, "LM230"): (NPM, 1),
    (11, "LM220"): (0, 0),
    (11, "LM301"): (0, 0),
    (12, "LM303"): (HEADER, 1),
    (12, "LM301"): (0, 0),
    (18, "LM220"): (0, 1),  # an empty cache file
}


@pytest.mark.integration
def test_costs_from_a_docker_archive(built: Built) -> None:
    """Each measurable finding carries the exact bytes and files its step's layer ships."""
    document, stderr = _json(built.archive, built.context / "Dockerfile")
    costs = _costs(document)
    for key, expected in EXPECTED.items():
        assert costs[key] == expected, key
    assert costs[(6, "LM211")] == (None, None)  # pinning has no byte cost
    assert document["image"] == {"name": str(built.archive), "steps": STEPS,
                                 "matched_steps": STEPS, "mismatch": None}
    assert "warning" not in stderr


@pytest.mark.integration
def test_costs_from_the_local_store(built: Built) -> None:
    """The same join when IMAGE names an image in the local store (loaded from the archive)."""
    from lamina.cli.store import open_store
    from lamina.store.load import load

    load(open_store(), built.archive)
    document, _ = _json(TAG, built.context / "Dockerfile")
    costs = _costs(document)
    assert {k: costs[k] for k in EXPECTED} == EXPECTED
    assert document["image"]["matched_steps"] == STEPS


@pytest.mark.integration
def test_costs_from_an_oci_layout(built: Built, tmp_path: Path) -> None:
    """An OCI layout (image-spec image-layout.md) of the same image joins the same way."""
    skopeo = require_tool("skopeo")
    layout = tmp_path / "layout"
    run([skopeo, "copy", "-q", f"docker-archive:{built.archive}", f"oci:{layout}:costs"])
    document, _ = _json(layout, built.context / "Dockerfile")
    costs = _costs(document)
    assert {k: costs[k] for k in EXPECTED} == EXPECTED


@pytest.mark.integration
def test_costs_of_an_image_lamina_built(built: Built, docker: str, busybox_image: str) -> None:
    """Lamina's builder writes the classic builder's history, so its images join the same."""
    from lamina.cli.store import open_store
    from lamina.store.load import load

    base = built.context.parent / "busybox-base.tar"
    if not base.exists():
        run([docker, "save", "-o", str(base), busybox_image])
    load(open_store(), base)
    build = lamina("build", "-q", "--pull", "never", "-t", "lamina-test/lint-costs:lamina",
                   built.context)
    assert build.exit_code == 0, build.stderr
    document, stderr = _json("lamina-test/lint-costs:lamina", built.context / "Dockerfile")
    assert "warning" not in stderr
    costs = _costs(document)
    assert {k: costs[k] for k in EXPECTED} == EXPECTED
    assert document["image"]["matched_steps"] == STEPS


@pytest.mark.integration
def test_tty_names_the_cost_and_what_costs_nothing(built: Built) -> None:
    result = lamina("lint", "--image", built.archive, built.context / "Dockerfile")
    assert result.exit_code == 1  # warnings reach the default threshold
    out = result.stdout
    assert "    line 3: apt lists left in this layer: 18.5 kB (2 files)\n" in out
    assert ("    line 6: pip cache left in this layer: 7 kB (1 file); a later layer deletes"
            " 7 kB of them, which still ship in this one (wasted)\n") in out
    assert "    line 7: this RUN overwrites or deletes 7 kB (1 file) the RUN on line 6" in out
    assert (f"    line 11: costs 0 B in {built.archive}: no apk cache in this step's layer\n"
            in out)
    assert (f"    line 18: costs 0 B in {built.archive}: 1 file of apk cache in this step's"
            " layer, all empty\n") in out
    assert "    line 12: compilers and headers this step added: 1.23 kB (1 file)\n" in out


@pytest.mark.integration
def test_changed_step_is_a_mismatch_and_only_matched_steps_are_measured(built: Built) -> None:
    """A RUN whose command differs from the image's entry is named; the rest still join."""
    path = _write(built, built.dockerfile.replace("rm -rf /root/.cache/pip",
                                                  "rm -rf /root/.cache"))
    document, stderr = _json(built.archive, path)
    assert "does not match" in stderr
    assert ("line 7 (RUN rm -rf /root/.cache), but the image has history entry 4"
            " (|1 FLAVOUR=plain /bin/sh -c rm -rf /root/.cache/pip)") in stderr
    assert f"costs are shown only for the {STEPS - 1} of {STEPS} steps that match" in stderr
    costs = _costs(document)
    assert costs[(7, "LM301")] == (None, None)
    assert costs[(3, "LM201")] == (APT_BIG + APT_SMALL, 2)
    assert document["image"]["matched_steps"] == STEPS - 1
    assert document["image"]["mismatch"].startswith("line 7 (RUN rm -rf /root/.cache)")


@pytest.mark.integration
def test_step_count_differs(built: Built) -> None:
    """A step the image lacks, or an image step the Dockerfile lacks, is named."""
    extra = _write(built, built.dockerfile + "RUN echo extra\n", "Dockerfile.extra")
    _, stderr = _json(built.archive, extra)
    assert "line 19 (RUN echo extra) has no step in the image" in stderr
    fewer = _write(built, built.dockerfile.replace('CMD ["sh"]\n', ""), "Dockerfile.fewer")
    document, stderr = _json(built.archive, fewer)
    assert ("the image has history entry 14 (/bin/sh -ec #(nop) CMD [\"sh\"]) before line 17"
            " (RUN apk add --virtual .tools curl") in stderr
    assert "), not in the Dockerfile" in stderr
    assert _costs(document)[(3, "LM201")] == (APT_BIG + APT_SMALL, 2)


@pytest.mark.integration
def test_not_built_from_this_dockerfile(built: Built) -> None:
    other = _write(built, "FROM busybox:1.36\nRUN apt-get update\n", "Dockerfile.other")
    document, stderr = _json(built.archive, other)
    assert "line 2 (RUN apt-get update), but the image has history entry 15" in stderr
    assert "no costs are shown" in stderr
    assert _costs(document)[(2, "LM201")] == (None, None)


@pytest.mark.integration
def test_build_stage_costs_nothing(built: Built) -> None:
    """Only the final stage's steps are in the image: a cache left in a build stage costs 0 B."""
    staged = "FROM busybox:1.36 AS deps\nRUN apt-get update\n\n" + built.dockerfile
    document, stderr = _json(built.archive, _write(built, staged, "Dockerfile.staged"))
    assert "warning" not in stderr
    finding = next(f for f in document["findings"] if f["line"] == 2 and f["rule"] == "LM201")
    assert (finding["cost_bytes"], finding["cost_files"]) == (0, 0)
    assert finding["cost_detail"] == (f"costs 0 B in {built.archive}: its stage is not part"
                                      " of the image")
    assert _costs(document)[(6, "LM201")] == (APT_BIG + APT_SMALL, 2)  # shifted by 3 lines


def _base_files() -> tuple[int, int]:
    size = count = 0
    with tarfile.open(fileobj=io.BytesIO(busybox_rootfs_tar())) as tar:
        for member in tar:
            if member.isreg():
                size += member.size
                count += 1
    return size, count


@pytest.mark.integration
def test_heavyweight_base_costs_the_base_layers(built: Built) -> None:
    """LM103 (deck: "Avoid full-on, heavyweight base images") costs what the base ships."""
    heavy = _write(built, built.dockerfile.replace(
        built.dockerfile.splitlines()[0], "FROM debian:bookworm", 1), "Dockerfile.heavy")
    document, _ = _json(built.archive, heavy)
    assert _costs(document)[(1, "LM103")] == _base_files()


@pytest.mark.integration
def test_sarif_and_checkstyle_carry_the_cost(built: Built) -> None:
    """SARIF 2.1.0 §3.8 property bags hold costBytes/costFiles; the log still validates."""
    dockerfile = built.context / "Dockerfile"
    sarif = lamina("lint", "--image", built.archive, "--format", "sarif", dockerfile)
    log = json.loads(sarif.stdout)
    jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text())).validate(log)
    result = next(r for r in log["runs"][0]["results"] if r["ruleId"] == "LM201")
    assert result["properties"]["costBytes"] == APT_BIG + APT_SMALL
    assert result["properties"]["costFiles"] == 2
    assert "apt lists left in this layer: 18.5 kB (2 files)" in result["message"]["text"]
    checkstyle = lamina("lint", "--image", built.archive, "--format", "checkstyle", dockerfile)
    assert "[apt lists left in this layer: 18.5 kB (2 files)]" in checkstyle.stdout


@pytest.mark.integration
def test_dockerfile_that_does_not_parse_is_not_joined(built: Built) -> None:
    broken = _write(built, "FROM a\nBOGUS x\n", "Dockerfile.broken")
    result = lamina("lint", "--image", built.archive, "--format", "json", broken)
    assert "does not parse, so it cannot be joined to" in result.stderr
    findings = json.loads(result.stdout)["files"][0]["findings"]
    assert [f["rule"] for f in findings] == ["LM000"]
    assert "image" not in json.loads(result.stdout)["files"][0]


@pytest.mark.integration
def test_image_needs_exactly_one_dockerfile(built: Built) -> None:
    dockerfile = built.context / "Dockerfile"
    result = lamina("lint", "--image", built.archive, dockerfile, dockerfile)
    assert result.exit_code == 2
    assert "--image joins one Dockerfile to its image; 2 were given" in result.stderr


@pytest.mark.integration
def test_unknown_image_is_a_clear_error(built: Built, tmp_path: Path) -> None:
    missing = tmp_path / "nothing-here.tar"
    result = lamina("lint", "--image", f"{missing}:bad@@", built.context / "Dockerfile")
    assert result.exit_code == 1
    assert ("not a file, not an image in the local store or the Docker engine, and not an image"
            " reference") in (
        result.stderr)


# -- the join on its own: both builders' history formats -----------------------------------

def test_classify_classic_and_buildkit_entries() -> None:
    """docker's classic builder writes '#(nop)' metadata and bare RUN command lines (with
    '|N ARG=v' when build args are in scope); BuildKit writes the keyword and '# buildkit'."""
    assert classify('/bin/sh -c #(nop)  CMD ["sh"]') == ("CMD", "")
    assert classify("/bin/sh -c #(nop) COPY file:abc123 in /dst ") == ("COPY", "")
    assert classify("/bin/sh -c #(nop) ADD multi:abc in /x/ ") == ("ADD", "")
    assert classify("/bin/sh -c #(nop) WORKDIR /app") == ("WORKDIR", "")
    assert classify("/bin/sh -c apt-get   update") == ("RUN", "/bin/sh -c apt-get update")
    assert classify("|2 A=1 B=2 /bin/sh -c make") == ("RUN", "/bin/sh -c make")
    assert classify("RUN /bin/sh -c apt-get update # buildkit") == (
        "RUN", "/bin/sh -c apt-get update")
    assert classify("RUN |1 A=1 /bin/sh -c make # buildkit") == ("RUN", "/bin/sh -c make")
    assert classify("COPY requirements.txt /app/ # buildkit") == ("COPY", "")
    assert classify('CMD ["python" "app.py"]') == ("CMD", "")
    assert classify("EXPOSE map[8080/tcp:{}]") == ("EXPOSE", "")
    assert classify("") == ("", "")


def _entries(*created_by: str) -> list[HistoryEntry]:
    return [HistoryEntry(created_by=c) for c in created_by]


def test_buildkit_history_joins_the_final_stage() -> None:
    """BuildKit's entries join too; a build stage's steps are not looked for in the image."""
    dockerfile = parse(
        "FROM golang:1.22 AS build\nRUN go build -o /app .\n\n"
        "FROM debian:bookworm-slim\nARG V=1\nCOPY --from=build /app /app\n"
        "RUN apt-get update \\\n    && apt-get install -y curl\nCMD [\"/app\"]\n")
    history = _entries("/bin/sh -c #(nop) ADD file:base in / ", '/bin/sh -c #(nop)  CMD ["bash"]',
                       "ARG V=1", "COPY /app /app # buildkit",
                       "RUN |1 V=1 /bin/sh -c apt-get update     && apt-get install -y curl"
                       " # buildkit", 'CMD ["/app"]')
    layers = {0: 0, 3: 1, 4: 2}
    joined = join(dockerfile_steps(dockerfile), history_steps(history, layers))
    assert joined.mismatch is None
    assert [joined.matched[i].index for i in range(4)] == [2, 3, 4, 5]
    assert joined.matched[2].layer == 2
    assert joined.base_entries == 2


def test_build_arg_values_with_spaces_still_join() -> None:
    """'|1 GREETING=hello world /bin/sh -c ...': the arg count cannot cut the prefix by words."""
    dockerfile = parse("FROM x\nARG GREETING\nRUN echo \"$GREETING\"\n")
    for created_by in ('|1 GREETING=hello world /bin/sh -c echo "$GREETING"',
                       'RUN |1 GREETING=hello world /bin/sh -c echo "$GREETING" # buildkit'):
        history = _entries("", "/bin/sh -c #(nop)  ARG GREETING", created_by)
        joined = join(dockerfile_steps(dockerfile), history_steps(history, {0: 0, 2: 1}))
        assert joined.mismatch is None, created_by
        assert joined.matched[1].layer == 1


def test_step_missing_below_the_first_match() -> None:
    """The Dockerfile's first step has no entry: the entry where it would sit is named."""
    dockerfile = parse("FROM x\nRUN echo missing\nRUN echo a\n")
    history = _entries("", "/bin/sh -c echo a")
    joined = join(dockerfile_steps(dockerfile), history_steps(history, {0: 0, 1: 1}))
    assert joined.mismatch == ("line 2 (RUN echo missing), but the image has history entry 0"
                               " (no command recorded)")
    assert joined.matched[1].index == 1


def test_join_prefers_the_top_of_the_history() -> None:
    """A metadata step matches the image's own entry, not the base image's of the same kind."""
    dockerfile = parse("FROM x\nRUN echo a\nCMD [\"sh\"]\n")
    history = _entries('/bin/sh -c #(nop)  CMD ["sh"]', "/bin/sh -c echo b",
                       '/bin/sh -c #(nop)  CMD ["sh"]')
    joined = join(dockerfile_steps(dockerfile), history_steps(history, {1: 0}))
    assert joined.matched[1].index == 2
    assert joined.mismatch == ("line 2 (RUN echo a), but the image has history entry 1"
                               " (/bin/sh -c echo b)")
    assert joined.base_entries is None
