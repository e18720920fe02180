"""Issue 19: `lamina scan --scanners vuln,secret` reports keys and tokens in every layer,
with the layer and step that added them, also when a later layer deletes them."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.scan.images import build_and_save
from tests.tools import lamina, require_tool

pytestmark = pytest.mark.integration

# AWS's documented example credentials (docs.aws.amazon.com, "Managing access keys")
AWS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
GITHUB = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
SLACK = "xoxb-" + "1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx"


@pytest.fixture(scope="module")
def secret_image(docker: str, busybox_image: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("secret-image")
    key = work / "id_ed25519"
    subprocess.run([require_tool("ssh-keygen"), "-q", "-t", "ed25519", "-N", "", "-f", str(key)],
                   check=True)
    tree: dict[str, str | bytes] = {
        "root/.ssh/id_ed25519": key.read_bytes(),
        "root/.aws/credentials": f"[default]\naws_access_key_id = {AWS_KEY_ID}\n"
                                 f"aws_secret_access_key = {AWS_SECRET}\n",
        "app/settings.py": f"DEBUG = False\n\nGITHUB_TOKEN = '{GITHUB}'\n",
        "app/.env": f"SLACK_TOKEN={SLACK}\n",
        # package-managed documentation quoting an example key is not the image's secret
        "usr/share/doc/awscli/README": f"export AWS_ACCESS_KEY_ID={AWS_KEY_ID}\n",
    }
    return build_and_save(docker, busybox_image, "lamina-test/scan-secrets:1", tree, work / "ctx",
                          extra="RUN rm /root/.ssh/id_ed25519\n")


def _secrets(image: Path, *args: str | Path) -> tuple[int, dict[str, Any], str]:
    result = lamina("scan", image, "--scanners", "secret", "--format", "json", *args)
    return result.exit_code, json.loads(result.stdout), result.stderr


def test_keys_and_tokens_are_found_with_their_layer_and_step(secret_image: Path,
                                                             tmp_path: Path) -> None:
    # no advisory database is needed for secrets alone
    code, doc, stderr = _secrets(secret_image, "--db", tmp_path / "none.sqlite")
    assert code == 0, stderr
    found = {(s["rule"], s["path"]): s for s in doc["secrets"]}
    assert set(found) == {
        ("private-key", "/root/.ssh/id_ed25519"),
        ("aws-access-key-id", "/root/.aws/credentials"),
        ("aws-secret-access-key", "/root/.aws/credentials"),
        ("github-pat", "/app/settings.py"),
        ("env-file", "/app/.env"),
        ("slack-token", "/app/.env"),
    }
    key = found[("private-key", "/root/.ssh/id_ed25519")]
    # deleted by the RUN above it, but the COPY layer still ships it
    assert not key["inFinalImage"] and key["layer"]["step"].startswith("COPY")
    assert "rm /root/.ssh/id_ed25519" not in key["layer"]["step"]
    token = found[("github-pat", "/app/settings.py")]
    assert token["line"] == 3 and token["severity"] == "CRITICAL" and token["inFinalImage"]
    assert token["layer"]["index"] == key["layer"]["index"]
    # a match is shown redacted, never whole
    assert token["match"].startswith("ghp_") and GITHUB not in json.dumps(doc)
    assert AWS_SECRET not in json.dumps(doc)
    assert found[("aws-secret-access-key", "/root/.aws/credentials")]["line"] == 3


def test_secret_findings_in_table_sarif_and_exit_code(secret_image: Path, tmp_path: Path) -> None:
    table = lamina("scan", secret_image, "--scanners", "secret", "--db", tmp_path / "none.sqlite")
    assert "private key /root/.ssh/id_ed25519 is deleted" in table.stdout
    assert "(deleted later, still shipped)" in table.stdout and "6 secrets" in table.stdout
    sarif = json.loads(lamina("scan", secret_image, "--scanners", "secret", "--format", "sarif",
                              "--db", tmp_path / "none.sqlite").stdout)
    results = sarif["runs"][0]["results"]
    aws = next(r for r in results if r["ruleId"] == "secret/aws-access-key-id")
    assert aws["locations"][0]["physicalLocation"]["region"]["startLine"] == 2
    code, _, _ = _secrets(secret_image, "--db", tmp_path / "none.sqlite", "--exit-code", "5")
    assert code == 5
    code, doc, _ = _secrets(secret_image, "--db", tmp_path / "none.sqlite", "--severity", "CRITICAL",
                            "--exit-code", "5")
    assert {s["severity"] for s in doc["secrets"]} == {"CRITICAL"} and code == 5
    result = lamina("scan", secret_image, "--scanners", "vuln,bogus")
    assert result.exit_code == 2 and "unknown scanner bogus" in result.stderr


def test_vuln_and_secret_together(secret_image: Path, pypa_db: Path) -> None:
    result = lamina("scan", secret_image, "--scanners", "vuln,secret", "--db", pypa_db,
                    "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert len(doc["secrets"]) == 6 and doc["findings"] == []
