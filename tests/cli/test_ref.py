"""`lamina ref NAME [--format json]`: how a name is parsed and normalised (issue 2,
"References and tags"). Data goes to stdout, the latest warning and errors to stderr.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.tools import CliResult, lamina

D256 = "sha256:" + "f" * 64


def _table(result: CliResult) -> dict[str, str]:
    """FIELD -> VALUE from the two-column table (columns are 3+ spaces apart)."""
    lines = result.stdout.splitlines()
    assert re.split(r"\s{3,}", lines[0]) == ["FIELD", "VALUE"]
    rows: dict[str, str] = {}
    for line in lines[1:]:
        field, _, value = line.partition(" ")
        rows[field] = value.strip()
    return rows


def _json(*args: str) -> tuple[dict[str, object], CliResult]:
    result = lamina("ref", "--format", "json", *args)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)  # stdout is JSON and nothing else
    assert isinstance(data, dict)
    return data, result


def test_table_shows_fully_qualified_form() -> None:
    """Issue 2: `nginx` -> docker.io/library/nginx:latest, field by field."""
    result = lamina("ref", "nginx")
    assert result.exit_code == 0, result.stderr
    rows = _table(result)
    assert rows["CANONICAL"] == "docker.io/library/nginx:latest"
    assert rows["FAMILIAR"] == "nginx:latest"
    assert rows["REGISTRY"] == "docker.io"
    assert rows["REPOSITORY"] == "library/nginx"
    assert rows["TAG"] == "latest"
    assert rows["DIGEST"] == ""
    assert "warning" not in result.stdout


def test_json_fields() -> None:
    """`--format json`: registry, repository, tag, digest for `us.gcr.io/myrepo/nginx:v1`."""
    data, result = _json("us.gcr.io/myrepo/nginx:v1")
    assert data["registry"] == "us.gcr.io"
    assert data["repository"] == "myrepo/nginx"
    assert data["tag"] == "v1"
    assert data["digest"] is None
    assert data["canonical"] == "us.gcr.io/myrepo/nginx:v1"
    assert data["input"] == "us.gcr.io/myrepo/nginx:v1"
    assert result.stderr == ""


def test_json_digest_reference_has_no_tag_and_no_warning() -> None:
    """Issue 2: `localhost:5000/a/b@sha256:...` is pinned: no :latest added, no warning."""
    data, result = _json(f"localhost:5000/a/b@{D256}")
    assert (data["registry"], data["repository"], data["tag"], data["digest"]) == (
        "localhost:5000", "a/b", None, D256)
    assert data["canonical"] == f"localhost:5000/a/b@{D256}"
    assert result.stderr == ""


def test_json_tag_and_digest() -> None:
    """Issue 2: `name:tag@digest` keeps both."""
    data, _ = _json(f"nginx:1.25@{D256}")
    assert (data["tag"], data["digest"]) == ("1.25", D256)
    assert data["canonical"] == f"docker.io/library/nginx:1.25@{D256}"
    assert data["familiar"] == f"nginx:1.25@{D256}"


def test_json_ipv6_registry_with_port() -> None:
    """reference.go host grammar: a bracketed IPv6 address with a port is a registry."""
    data, _ = _json("[::1]:5000/foo")
    assert (data["registry"], data["repository"], data["tag"]) == ("[::1]:5000", "foo", "latest")


@pytest.mark.parametrize("name", ["nginx", "nginx:latest"])
def test_latest_warning_on_stderr_only(name: str) -> None:
    """Deck "Tags": relying on latest is warned about on stderr; stdout stays clean JSON."""
    data, result = _json(name)
    assert data["tag"] == "latest"
    assert "warning" not in result.stdout
    assert result.stderr.startswith("warning: nginx:latest")
    assert "explicit version" in result.stderr and "nginx:v1.0.3" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("name", ["nginx:v1.0.3", f"nginx@{D256}"])
def test_no_warning_for_pinned_names(name: str) -> None:
    """An explicit version or a digest needs no warning."""
    for args in (("ref", name), ("ref", "--format", "json", name)):
        result = lamina(*args)
        assert result.exit_code == 0
        assert result.stderr == ""


@pytest.mark.parametrize(("name", "rule"), [
    ("NGINX", "lowercase"),
    ("example.com/Team/app:1", "lowercase"),
    ("nginx:" + "a" * 129, "128"),
    ("nginx:.hidden", "not starting with '.' or '-'"),
    ("nginx@md5:" + "0" * 32, "unsupported algorithm 'md5'"),
    ("nginx@sha256:abc", "64 hex"),
    ("nginx@sha512:" + "f" * 64, "128 hex"),
    ("nginx@sha256:" + "F" * 64, "lowercase hex"),
    ("foo//bar", "empty path component"),
    ("example.com/" + "a" * 250, "255"),
    ("nginx:", "empty tag"),
    ("a" * 64, "image ID"),
])
@pytest.mark.parametrize("fmt", ["table", "json"])
def test_invalid_name_exits_1_with_error_naming_the_rule(name: str, rule: str, fmt: str) -> None:
    """Issue 2: invalid references get an error that names the rule broken."""
    result = lamina("ref", "--format", fmt, name)
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: ")
    assert rule in lines[0]


def test_default_registry_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 2: the default registry is configurable; library/ is for docker.io only."""
    monkeypatch.setenv("LAMINA_DEFAULT_REGISTRY", "registry.example:5000")
    data, _ = _json("nginx:1")
    assert data["canonical"] == "registry.example:5000/nginx:1"
    assert (data["registry"], data["repository"]) == ("registry.example:5000", "nginx")
    explicit, _ = _json("docker.io/nginx:1")
    assert explicit["canonical"] == "docker.io/library/nginx:1"


def test_default_registry_from_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ARCHITECTURE conventions: lamina.toml sets it, LAMINA_* overrides the file."""
    config = tmp_path / "lamina.toml"
    config.write_text('[core]\ndefault_registry = "file.example"\n')
    monkeypatch.setenv("LAMINA_CONFIG", str(config))
    data, _ = _json("team/app:2")
    assert data["canonical"] == "file.example/team/app:2"
    monkeypatch.setenv("LAMINA_DEFAULT_REGISTRY", "env.example")
    data, _ = _json("team/app:2")
    assert data["canonical"] == "env.example/team/app:2"
