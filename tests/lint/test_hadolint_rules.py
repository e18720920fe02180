"""Edges of the rules that carry hadolint's DL ids (docs/lint-rules.md names the DL id of
each): where they fire and where they must stay quiet."""

from __future__ import annotations

import dataclasses

import pytest

from lamina.lint.catalog import all_rules
from lamina.lint.hadolint_ids import DL_TO_LM, lamina_ids
from tests.lint.fixtures import SETTINGS, rules_fired

PIPE = "RUN curl -fsSL https://x/a.tgz | tar -xz\n"


@pytest.mark.parametrize(
    ("text", "expected", "absent"),
    [
        # LM510 (DL4006): pipefail from SHELL (bundled -exo too), from `set -o pipefail`
        # earlier in the RUN; PowerShell has no pipefail problem; a pipe in $( ) counts.
        ("FROM d:1\n" + PIPE, {"LM510"}, set()),
        ("FROM d:1\nSHELL [\"/bin/ash\", \"-exo\", \"pipefail\", \"-c\"]\n" + PIPE, set(),
         {"LM510"}),
        ("FROM d:1\nSHELL [\"/bin/sh\", \"-c\"]\n" + PIPE, {"LM510"}, set()),
        ("FROM d:1\nRUN set -euo pipefail; curl -fsSL https://x | tar -xz\n", set(), {"LM510"}),
        ("FROM w:1\nSHELL [\"powershell\", \"-Command\"]\nRUN a | b\n", set(), {"LM510"}),
        ("FROM d:1\nRUN v=\"$(dpkg -l | wc -l)\"\n", {"LM510"}, set()),
        # pipefail is per stage: a new FROM starts over.
        ("FROM d:1\nSHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\nFROM d:1\n" + PIPE,
         {"LM510"}, set()),
        # LM506 (DL3047)
        ("FROM d:1\nRUN wget -qO- https://x\n", set(), {"LM506"}),
        ("FROM d:1\nRUN wget -nv https://x\n", set(), {"LM506"}),
        ("FROM d:1\nRUN wget -O /a https://x\n", {"LM506"}, set()),
        ("FROM d:1\nRUN wget --progress=dot:giga -O /a https://x\n", set(), {"LM506"}),
        # LM507 (DL3046)
        ("FROM d:1\nRUN useradd --uid=1000000 a\n", {"LM507"}, set()),
        ("FROM d:1\nRUN useradd --no-log-init -u 1000000 a\n", set(), {"LM507"}),
        ("FROM d:1\nRUN useradd -u 10001 a\n", set(), {"LM507"}),
        # LM201 (DL3009): apt-get dist-clean clears the lists too.
        ("FROM d:1\nRUN apt-get update && apt-get install -y --no-install-recommends a=1 "
         "&& apt-get dist-clean\n", set(), {"LM201"}),
        # LM240-LM243 (DL3030-DL3041)
        ("FROM f:1\nRUN microdnf install -y httpd && microdnf clean all\n", {"LM242"}, {"LM240"}),
        ("FROM f:1\nRUN zypper -n install curl=8 && zypper cc\n", set(),
         {"LM240", "LM241", "LM242"}),
        ("FROM f:1\nRUN --mount=type=cache,target=/var/cache/dnf dnf install -y a-1.0\n", set(),
         {"LM241"}),
        ("FROM f:1\nRUN yum install -y a-1.2.3 b.rpm && rm -rf /var/cache/yum\n", set(),
         {"LM241", "LM242"}),
        # LM304/LM305 (DL3022/DL3023): image references and earlier stages are fine.
        ("FROM d:1 AS a\nFROM d:1\nCOPY --from=a /x /x\nCOPY --from=0 /y /y\n"
         "COPY --from=nginx:1.27 /z /z\n", set(), {"LM304", "LM305"}),
        ("FROM d:1\nCOPY --from=later /x /x\nFROM d:1 AS later\n", {"LM304"}, set()),
        ("FROM d:1\nCOPY --from=0 /x /x\n", {"LM305"}, set()),
        # LM511 (DL3045): a WORKDIR in the stage this one builds on counts.
        ("FROM d:1 AS base\nWORKDIR /app\nFROM base\nCOPY a b/\n", set(), {"LM511"}),
        ("FROM d:1\nCOPY a $DEST\nCOPY b \"/x\"\n", set(), {"LM511"}),
        ("FROM d:1\nCOPY a b/\nWORKDIR /app\n", {"LM511"}, set()),
        # LM513 (DL4003/DL4004/DL3012) counts per stage.
        ("FROM d:1 AS a\nCMD [\"a\"]\nFROM d:1\nCMD [\"b\"]\n", set(), {"LM513"}),
        ("FROM d:1\nHEALTHCHECK NONE\nHEALTHCHECK CMD true\n", {"LM513"}, set()),
        # LM105 (DL3029), LM406 (DL3066), LM512 (DL3000)
        ("FROM --platform=$TARGETPLATFORM d:1\n", set(), {"LM105"}),
        ("FROM d:1\nARG UID=10001\nUSER 1000:app\nUSER $UID\n", set(), {"LM406"}),
        ("FROM d:1\nWORKDIR $HOME/app\nWORKDIR C:\\\\app\n", set(), {"LM512"}),
    ],
)
def test_rule_edges(text: str, expected: set[str], absent: set[str]) -> None:
    fired = rules_fired(text)
    assert expected <= fired
    assert not (absent & fired)


def test_every_mapped_dl_id_names_a_registered_rule() -> None:
    registered = {r.id for r in all_rules()}
    assert set(DL_TO_LM.values()) <= registered
    assert lamina_ids(["DL4006", "dl3047", "SC2086", "DL9999"]) == {"LM510", "LM506", "SC2086"}


@pytest.mark.parametrize(
    ("schema", "label", "fires"),
    [
        ("url", "https://github.com/acme/app", False),
        ("url", "github.com/acme/app", True),
        ("semver", "1.2.3-rc.1+b5", False),
        ("semver", "1.2", True),
        ("hash", "0123456789abcdef0123456789abcdef01234567", False),
        ("hash", "abc123", True),
        ("rfc3339", "2024-05-01T12:00:00Z", False),
        ("rfc3339", "2024-05-01", True),
        ("spdx", "Apache-2.0 OR MIT", False),
        ("spdx", "Apache 2", True),
        ("email", "dev@example.com", False),
        ("email", "dev at example", True),
        ("text", "", True),
        ("text", "$VERSION", False),
    ],
)
def test_label_values_checked_by_type(schema: str, label: str, fires: bool) -> None:
    """LM523 (DL3051-DL3056, DL3058) with a label schema configured."""
    settings = dataclasses.replace(SETTINGS, label_schema={"x.y": schema})
    fired = rules_fired(f'FROM d:1\nLABEL x.y="{label}"\n', settings)
    assert ("LM523" in fired) == fires


@pytest.mark.parametrize(("key", "fires"), [
    ("org.opencontainers.image.title", False), ("com.example.a-b", False),
    ("Maintainer", True), ("a..b", True), ("com.docker.x", True), ("-a", True)])
def test_label_keys(key: str, fires: bool) -> None:
    """LM520 (DL3048): Docker's label key format."""
    assert ("LM520" in rules_fired(f'FROM d:1\nLABEL {key}="v"\n')) == fires


@pytest.mark.parametrize(("text", "fires"), [
    ("FROM d:1 AS a\nFROM scratch\nCOPY --from=a / /\n", True),
    ("FROM d:1 AS a\nFROM scratch\nCOPY --from=a /app /app\n", False),
    ("FROM scratch\nCOPY / /x\n", False),
])
def test_copy_of_a_whole_filesystem(text: str, fires: bool) -> None:
    """LM306 (DL3067)."""
    assert ("LM306" in rules_fired(text)) == fires


@pytest.mark.parametrize(("user", "fires"), [
    ("app", True), ("1000", False), ("${UID}", False), ("${OTHER}", True), ("root:0", True)])
def test_user_resolved_with_arg_defaults(user: str, fires: bool) -> None:
    """LM406 (DL3066): a variable that is numeric by its ARG default is fine."""
    assert ("LM406" in rules_fired(f"FROM d:1\nARG UID=1000\nUSER {user}\n")) == fires


@pytest.mark.parametrize(
    ("text", "expected", "absent"),
    [
        # LM502 (DL3025) covers HEALTHCHECK CMD in shell form too.
        ("FROM d:1\nHEALTHCHECK CMD curl -f http://localhost/\n", {"LM502"}, set()),
        ("FROM d:1\nHEALTHCHECK CMD [\"curl\", \"-f\", \"http://localhost/\"]\n", set(),
         {"LM502"}),
        ("FROM d:1\nHEALTHCHECK NONE\n", set(), {"LM502"}),
        # LM509 (DL4001): the RUN where the second downloader appears; per stage.
        ("FROM d:1\nRUN wget -q https://x\nFROM d:1\nRUN curl -fsSL https://y\n", set(),
         {"LM509"}),
        # LM232 (DL3060), LM250 (DL3028), LM251 (DL3062)
        ("FROM n:1\nRUN --mount=type=cache,target=/usr/local/share/.cache/yarn yarn install\n",
         set(), {"LM232"}),
        ("FROM r:1\nRUN gem install x:1.0 && gem install y --version 2\n", set(), {"LM250"}),
        ("FROM g:1\nRUN go install ./cmd/... && go install example.com/a@v1.0.0\n", set(),
         {"LM251"}),
        # LM516 (DL3044): only names assigned earlier in the same ENV.
        ("FROM d:1\nENV A=1\nENV B=$A C=${B}\n", {"LM516"}, set()),
        ("FROM d:1\nENV A=1\nENV B=$A\n", set(), {"LM516"}),
        ("FROM d:1\nENV A=1 AB=$ABC\n", set(), {"LM516"}),
        # LM515 (DL3021), LM514 (DL4005), LM508 (DL3001), LM205 (DL3027)
        ("FROM d:1\nCOPY a b /c/\nCOPY a /c\n", set(), {"LM515"}),
        ("FROM d:1\nRUN ln -s /bin/bash /usr/local/bin/sh\n", set(), {"LM514"}),
        ("FROM d:1\nRUN apt-cache policy && psql -c 'select 1'\n", set(), {"LM205", "LM508"}),
    ],
)
def test_more_rule_edges(text: str, expected: set[str], absent: set[str]) -> None:
    fired = rules_fired(text)
    assert expected <= fired
    assert not (absent & fired)


def test_onbuild_run_is_checked_like_run() -> None:
    """hadolint checks ONBUILD triggers too (its `onbuild` rule combinator)."""
    fired = rules_fired("FROM d:1\nUSER 1\nONBUILD RUN apk add curl\n")
    assert {"LM220", "LM221"} <= fired
