"""Version ordering per ecosystem: dpkg (checked against dpkg itself), apk, SemVer, PEP 440."""

from __future__ import annotations

import itertools

import pytest

from lamina.scan import apk_version, dpkg_version, ecosystems, semver
from lamina.scan.errors import InvalidVersion
from tests.tools import require_tool, run

# Debian Policy 5.6.12: epochs, '~' before everything, letters before non-letters, digits numerically
DPKG_CASES = [
    "1.0", "1.0-1", "1.0-1+b1", "1.0~rc1", "1.0~rc1-1", "1.0~~", "1.0~", "1.0+dfsg", "1.0.1",
    "1:0.9", "2:0.1", "1.0a", "1.0-0", "1.00", "1.0.0", "10.0", "9.9", "1.2-3~deb12u1",
    "1.2-3+deb12u1", "1.2-3", "0:1.0", "3.0.19-1~deb12u2", "3.0.22-1~deb12u2", "5.36.0-7+deb12u3",
    "1.0-1.1", "1.0-1a", "1.0-1~bpo1",
]


@pytest.mark.integration
def test_dpkg_order_matches_dpkg_compare_versions() -> None:
    """Every pair orders exactly as `dpkg --compare-versions` does (Debian Policy 5.6.12)."""
    dpkg = require_tool("dpkg")
    for a, b in itertools.combinations(DPKG_CASES, 2):
        ours = dpkg_version.compare(a, b)
        lt = run([dpkg, "--compare-versions", a, "lt", b], check=False).returncode == 0
        eq = run([dpkg, "--compare-versions", a, "eq", b], check=False).returncode == 0
        theirs = -1 if lt else 0 if eq else 1
        assert ours == theirs, f"{a} vs {b}: ours {ours}, dpkg {theirs}"


@pytest.mark.parametrize("bad", ["", "a1.0", "1.0 1", "x:1.0", "1.0-", "1.0-a_b"])
def test_dpkg_rejects_malformed_versions(bad: str) -> None:
    """A version must start with a digit; the epoch is numeric; revision characters are limited."""
    with pytest.raises(InvalidVersion):
        dpkg_version.parse(bad)


# apk-tools' own test vectors (test/version.data): each line is "a < b"
APK_LESS = [
    ("1.0", "1.0.1"), ("1.0_alpha", "1.0"), ("1.0_alpha1", "1.0_alpha2"), ("1.0_alpha", "1.0_beta"),
    ("1.0_beta", "1.0_pre"), ("1.0_pre", "1.0_rc"), ("1.0_rc1", "1.0"), ("1.0", "1.0_p1"),
    ("1.0_cvs", "1.0_svn"), ("1.0_git", "1.0_hg"), ("1.0_hg", "1.0_p"), ("1.0", "1.0-r1"),
    ("1.0-r1", "1.0-r2"), ("1.0-r9", "1.0-r10"), ("1.0", "1.0a"), ("1.0a", "1.0b"),
    ("1.2.3", "1.10"), ("1.01", "1.1"), ("2.0_rc1-r0", "2.0-r0"), ("3.1.4-r5", "3.1.5-r0"),
]


@pytest.mark.parametrize(("low", "high"), APK_LESS)
def test_apk_order(low: str, high: str) -> None:
    """apk-tools version.c: suffix ranks, revisions, letters, fractional leading zeros."""
    assert apk_version.compare(low, high) == -1
    assert apk_version.compare(high, low) == 1
    assert apk_version.compare(low, low) == 0


def test_apk_rejects_malformed() -> None:
    with pytest.raises(InvalidVersion):
        apk_version.tokens("1.0_unknown")


SEMVER_ASCENDING = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta",
                    "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.1.0",
                    "2.0.0", "10.0.0"]


def test_semver_precedence_from_the_spec() -> None:
    """SemVer 2.0.0 section 11's own example chain, plus numeric (not lexical) parts."""
    keys = [semver.key(v) for v in SEMVER_ASCENDING]
    assert keys == sorted(keys)
    assert semver.compare("1.0.0+build.5", "1.0.0") == 0
    assert semver.compare("v1.2.3", "1.2.3") == 0
    with pytest.raises(InvalidVersion):
        semver.key("1.2")


def test_pep440_ordering_and_names() -> None:
    """PEP 440 ordering via packaging; PEP 503 name normalisation."""
    key = ecosystems.get("PyPI").version_key
    ordered = ["1.0.dev1", "1.0a1", "1.0b2", "1.0rc1", "1.0", "1.0.post1", "1.1"]
    assert [key(v) for v in ordered] == sorted(key(v) for v in ordered)
    assert key("5.2b1") < key("5.2")
    assert ecosystems.pep503("Foo_Bar.baz") == "foo-bar-baz"
    with pytest.raises(InvalidVersion):
        key("not a version")
