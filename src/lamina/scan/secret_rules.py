"""What a credential looks like: trivy-style rules for cloud keys, tokens and private keys.

Each rule has a cheap keyword test (bytes that must occur) before its regular
expression runs, so most files cost one ``in`` per rule. The token formats are
the ones their issuers document (AWS access key ids, GitHub's ``ghp_``-style
prefixes, GitLab ``glpat-``, Slack ``xox?-``, npm ``npm_``, PyPI ``pypi-``,
Stripe ``sk_live_``, Google service-account JSON).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class SecretRule:
    id: str
    category: str
    severity: str  # CRITICAL, HIGH, MEDIUM, LOW
    title: str
    keywords: tuple[bytes, ...]
    pattern: re.Pattern[bytes]


def _rule(rid: str, category: str, severity: str, title: str, keywords: tuple[bytes, ...],
          pattern: bytes) -> SecretRule:
    return SecretRule(rid, category, severity, title, keywords, re.compile(pattern))


RULES: Final = (
    _rule("aws-access-key-id", "AWS", "CRITICAL", "AWS access key ID",
          (b"AKIA", b"ASIA", b"ABIA", b"ACCA", b"A3T"),
          rb"(?<![A-Z0-9])(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}(?![A-Z0-9])"),
    _rule("aws-secret-access-key", "AWS", "CRITICAL", "AWS secret access key",
          (b"ws_secret", b"WS_SECRET", b"ws_Secret", b"secret_access_key", b"SecretAccessKey"),
          rb"(?i)aws_?secret_?(?:access)?_?key[\"'\s]*[:=]\s*[\"']?([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])"),
    _rule("github-pat", "GitHub", "CRITICAL", "GitHub token",
          (b"ghp_", b"gho_", b"ghu_", b"ghs_", b"ghr_", b"github_pat_"),
          rb"\b(?:gh[pousr]_[0-9A-Za-z]{36}|github_pat_[0-9A-Za-z_]{82})\b"),
    _rule("gitlab-pat", "GitLab", "CRITICAL", "GitLab personal access token", (b"glpat-",),
          rb"\bglpat-[0-9A-Za-z_-]{20}\b"),
    _rule("slack-token", "Slack", "HIGH", "Slack token", (b"xox",),
          rb"\bxox[baprs]-[0-9A-Za-z-]{10,72}\b"),
    _rule("npm-access-token", "npm", "CRITICAL", "npm access token", (b"npm_",),
          rb"\bnpm_[0-9A-Za-z]{36}\b"),
    _rule("pypi-upload-token", "PyPI", "CRITICAL", "PyPI upload token", (b"pypi-AgEIcHlwaS5vcmc",),
          rb"\bpypi-AgEIcHlwaS5vcmc[0-9A-Za-z_-]{50,}"),
    _rule("stripe-secret-key", "Stripe", "CRITICAL", "Stripe secret key", (b"sk_live_",),
          rb"\bsk_live_[0-9A-Za-z]{24,99}\b"),
    _rule("gcp-service-account", "Google", "CRITICAL", "Google Cloud service account key",
          (b"service_account",),
          rb"\"type\"\s*:\s*\"service_account\"[\s\S]{0,4096}?\"private_key\"\s*:"),
    _rule("private-key", "AsymmetricPrivateKey", "HIGH", "private key", (b"PRIVATE KEY",),
          rb"-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----"),
)


def redact(text: str) -> str:
    """Enough of a match to find it again, never enough to use it."""
    return text[:4] + "*" * max(len(text) - 4, 4) if len(text) > 8 else "*" * len(text)
