"""Every rule against its fixture pair, the deck's Dockerfile and a clean multi-stage build
(issue 8, "Tests")."""

from __future__ import annotations

import pytest

from lamina.lint import REGISTRY, all_rules
from tests.lint.fixtures import FIXTURES, lint_file, pair, rules_fired

RULE_IDS = [r.id for r in all_rules()]


def test_every_rule_has_a_fixture_pair() -> None:
    missing = [p.name for rid in RULE_IDS for p in pair(rid) if not p.is_file()]
    assert missing == []


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_fires_on_bad_fixture(rule_id: str) -> None:
    fires, _ = pair(rule_id)
    assert rule_id in {f.rule for f in lint_file(fires).findings}


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_quiet_on_good_fixture(rule_id: str) -> None:
    _, passes = pair(rule_id)
    assert rule_id not in {f.rule for f in lint_file(passes).findings}


def test_registry_entries_are_complete() -> None:
    """Each rule: stable ID with the LM prefix, a title, advice and a docs anchor."""
    for rule_id, rule in REGISTRY.items():
        assert rule_id == rule.id and rule_id.startswith("LM") and len(rule_id) == 5
        assert rule.title and rule.message.endswith(".")
        assert rule.docs == f"docs/lint-rules.md#{rule_id.lower()}"


def test_deck_dockerfile() -> None:
    """Deck, part 4: its own Dockerfile must trigger heavyweight base, apt lists, pip cache,
    COPY * before install and shell-form CMD."""
    report = lint_file(FIXTURES / "deck.Dockerfile")
    by_rule = {f.rule: f for f in report.findings}
    assert {"LM103", "LM201", "LM210", "LM302", "LM502"} <= set(by_rule)
    assert by_rule["LM103"].line == 1 and "ubuntu:18.04" in by_rule["LM103"].message
    assert (by_rule["LM201"].line, by_rule["LM201"].end_line) == (2, 3)
    assert by_rule["LM302"].line == 4 and "line 5" in by_rule["LM302"].message
    assert by_rule["LM210"].line == 5
    assert by_rule["LM502"].line == 7


def test_deck_dockerfile_as_extracted_from_the_slides() -> None:
    """The deck's text has the continuation flattened (`install \\ python3`); still parsed."""
    text = (
        "FROM ubuntu:18.04\nRUN apt-get update && apt -y install \\ python3 python3-pip\n"
        "COPY * /app/\nRUN pip3 install Flask\nEXPOSE 8080\nCMD python3 /app/app.py\n"
    )
    assert {"LM103", "LM201", "LM210", "LM302", "LM502"} <= rules_fired(text)


def test_deck_multistage_example() -> None:
    """Deck, "Use multi-stage Dockerfiles": its golang -> alpine example is only faulted for
    alpine:latest, its unversioned `go get` (LM251, hadolint's DL3062) and the info notes,
    not for the heavy golang build stage."""
    text = (
        "FROM golang:1.7.3 AS builder\nWORKDIR /href-counter/\n"
        "RUN go get -d -v golang.org/x/net/html\nCOPY app.go .\n"
        "RUN CGO_ENABLED=0 GOOS=linux go build -a -installsuffix cgo -o app .\n\n"
        "FROM alpine:latest\nRUN apk --no-cache add ca-certificates\nWORKDIR /root/\n"
        "COPY --from=builder /href-counter/app .\nCMD [\"/app\"]\n"
    )
    fired = rules_fired(text)
    assert "LM102" in fired
    assert not fired & {"LM103", "LM220", "LM302", "LM303", "LM502"}
    assert fired <= {"LM102", "LM221", "LM251", "LM402"}


def test_clean_multistage_dockerfile_has_no_findings() -> None:
    """Deck: "Use multi-stage Dockerfiles" — a clean one triggers nothing, not even info."""
    assert lint_file(FIXTURES / "clean-multistage.Dockerfile").findings == ()


@pytest.mark.parametrize(
    ("text", "expected", "absent"),
    [
        # Base images: ARG defaults resolve, stage references and scratch are not images.
        ("ARG V=3.20\nFROM alpine:${V}\nUSER 1\n", set(), {"LM101", "LM102"}),
        ("ARG V\nFROM alpine:${V}\nUSER 1\n", set(), {"LM101"}),
        ("FROM alpine:3.20 AS a\nFROM a\nUSER 1\n", set(), {"LM101"}),
        ("FROM scratch\nCOPY x /\nUSER 1\n", set(), {"LM101"}),
        ("FROM python@sha256:" + "a" * 64 + "\nUSER 1\n", set(), {"LM101", "LM103"}),
        ("FROM python:3.12 AS build\nFROM python:3.12-slim\nUSER 1\n", set(), {"LM103"}),
        ("FROM debian:bookworm\nUSER 1\n", {"LM103"}, set()),
        ("FROM node:20-alpine\nUSER 1\n", set(), {"LM103"}),
        ("FROM registry.access.redhat.com/ubi9:9.4\nUSER 1\n", {"LM103"}, set()),
        ("FROM registry.access.redhat.com/ubi9-minimal:9.4\nUSER 1\n", set(), {"LM103"}),
        ("FROM ghcr.io/acme/python:3.12\nUSER 1\n", set(), {"LM103"}),
        # apt: -y bundled or via yes |, options via -o.
        ("FROM d:1\nRUN apt-get install -qy --no-install-recommends a=1\n", set(), {"LM202"}),
        ("FROM d:1\nRUN yes | apt-get install --no-install-recommends a=1\n", set(), {"LM202"}),
        ("FROM d:1\nRUN apt-get -o APT::Install-Recommends=false install -y a\n", set(),
         {"LM203"}),
        ("FROM d:1\nRUN set -e; if true; then apt-get install b; fi\n", {"LM202"}, set()),
        # Package managers found through sudo, env, sh -c and python -m pip.
        ("FROM d:1\nRUN sh -c 'pip install flask==3.0.3'\n", {"LM210"}, set()),
        ("FROM d:1\nRUN python3 -m pip install flask==3.0.3\n", {"LM210"}, set()),
        ("FROM d:1\nRUN env A=1 pip install --no-cache-dir flask==3.0.3\n", set(), {"LM210"}),
        ("FROM d:1\nRUN PIP_NO_CACHE_DIR=1 pip install flask==3.0.3\n", set(), {"LM210"}),
        ("FROM d:1\nENV PIP_NO_CACHE_DIR=1\nRUN pip install flask==3.0.3\n", set(), {"LM210"}),
        ("FROM d:1 AS b\nENV PIP_NO_CACHE_DIR=1\nFROM b\nRUN pip install flask==3.0.3\n", set(),
         {"LM210"}),
        ("FROM d:1\nRUN sudo apt-get install -y --no-install-recommends a=1\n", {"LM403"},
         {"LM202"}),
        # Regex-on-raw-line traps: words in strings are not commands.
        ("FROM d:1\nRUN echo 'apt-get update && pip install x'\n", set(),
         {"LM201", "LM210", "LM211"}),
        ("FROM d:1\nRUN echo apt-get update\n", set(), {"LM201"}),
        # pip specs: pinned, ranges, paths and files are not unpinned.
        ("FROM d:1\nRUN pip install --no-cache-dir 'a>=1' ./pkg b.whl -r r.txt\n", set(),
         {"LM211"}),
        # npm: scoped packages, lockfile by glob.
        ("FROM n:1\nRUN npm i -g @scope/pkg@1.2.3\n", set(), {"LM231"}),
        ("FROM n:1\nRUN npm i -g @scope/pkg\n", {"LM231"}, set()),
        ("FROM n:1\nCOPY package*.json ./\nRUN npm install\n", {"LM230"}, set()),
        ("FROM n:1\nCOPY package.json ./\nRUN npm install\n", set(), {"LM230"}),
        # curl | sh variants.
        ("FROM d:1\nRUN wget -qO- https://x | bash -s\n", {"LM405"}, set()),
        ("FROM d:1\nRUN bash <(curl -s https://x)\n", {"LM405"}, set()),
        ("FROM d:1\nRUN curl -s https://x | tee /tmp/x\n", set(), {"LM405"}),
        # Toolchains removed in the same RUN do not ship.
        ("FROM a:1\nRUN apk add --no-cache --virtual .b gcc=1 && make && apk del .b\n", set(),
         {"LM303"}),
        # EXPOSE forms.
        ("FROM d:1\nEXPOSE 80 443/tcp 53/udp 8000-8010 $PORT\n", set(), {"LM503"}),
        ("FROM d:1\nEXPOSE 0\n", {"LM503"}, set()),
        ("FROM d:1\nARG PORT=99999\nEXPOSE $PORT\n", {"LM503"}, set()),
        ("FROM d:1\nENV PORT=8080\nEXPOSE ${PORT}/tcp\n", set(), {"LM503"}),
        ("FROM d:1\nEXPOSE 80/http\n", {"LM503"}, set()),
        # USER through the stage chain.
        ("FROM d:1 AS base\nUSER app\nFROM base\nCMD [\"x\"]\n", set(), {"LM402"}),
        ("FROM d:1\nUSER 0:0\n", {"LM401"}, set()),
        # ADD of URLs and archives is what ADD is for.
        ("FROM d:1\nADD https://example.com/x.txt /x\n", set(), {"LM505"}),
        # A heredoc script is linted as shell.
        ("FROM d:1\nRUN <<EOF\napt-get update\napt-get install -y --no-install-recommends a=1\n"
         "EOF\n", {"LM201"}, set()),
        # A SHELL that is not POSIX: shell rules do not apply.
        ("FROM w:1\nSHELL [\"powershell\", \"-Command\"]\nRUN cd C:\\\\; sudo x\n", set(),
         {"LM501", "LM403", "LM001"}),
    ],
)
def test_rule_edges(text: str, expected: set[str], absent: set[str]) -> None:
    fired = rules_fired(text)
    assert expected <= fired
    assert not (absent & fired)


def test_unparsable_shell_is_still_checked_word_by_word() -> None:
    """A RUN that does not parse as shell gives LM001, and the shell rules still see its
    commands through the word-level split."""
    text = "FROM d:1\nUSER 1\nRUN if true; then apt-get update && pip install flask; done\n"
    fired = rules_fired(text)
    assert {"LM001", "LM201", "LM210", "LM211"} <= fired


def test_bash_syntax_parses() -> None:
    """bash-only syntax is parsed, so it is no LM001 and the commands inside are checked."""
    text = ("FROM d:1\nUSER 1\nRUN [[ -f x ]] && arr=(a b) && echo $(( 1 + 2 )) && "
            "case \"$(dpkg --print-architecture)\" in amd64) apt-get update ;; esac\n")
    fired = rules_fired(text)
    assert "LM001" not in fired and "LM201" in fired


def test_messages_say_what_to_do_with_detail() -> None:
    report = lint_file(FIXTURES / "deck.Dockerfile")
    pip_pin = next(f for f in report.findings if f.rule == "LM211")
    assert "Pin Python packages" in pip_pin.message and "unpinned: Flask" in pip_pin.message
