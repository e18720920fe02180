"""OSV range evaluation, case by case with the schema's pseudocode ("Evaluation")."""

from __future__ import annotations

from typing import Any

from lamina.scan.ranges import is_affected


def _eco(*events: dict[str, str], kind: str = "ECOSYSTEM") -> list[dict[str, Any]]:
    return [{"type": kind, "events": list(events)}]


def test_introduced_zero_and_fixed() -> None:
    """introduced "0" sorts before every version; fixed is not affected."""
    ranges = _eco({"introduced": "0"}, {"fixed": "1.0.2"}, kind="SEMVER")
    assert is_affected("0.0.1", "npm", ranges, []).affected
    assert is_affected("1.0.1", "npm", ranges, []).fixed == ("1.0.2",)
    assert not is_affected("1.0.2", "npm", ranges, []).affected


def test_multiple_intervals_in_one_range_even_unsorted() -> None:
    """[1.0.0, 1.0.2) and [3.0.0, 3.2.5): events are sorted before the walk."""
    ranges = _eco({"introduced": "3.0.0"}, {"fixed": "3.2.5"}, {"introduced": "1.0.0"},
                  {"fixed": "1.0.2"}, kind="SEMVER")
    hits = [v for v in ("0.9.0", "1.0.0", "1.0.1", "1.0.2", "2.0.0", "3.0.0", "3.2.4", "3.2.5")
            if is_affected(v, "npm", ranges, []).affected]
    assert hits == ["1.0.0", "1.0.1", "3.0.0", "3.2.4"]


def test_last_affected_is_inclusive() -> None:
    ranges = _eco({"introduced": "0"}, {"last_affected": "2.1.214"})
    assert is_affected("2.1.214", "PyPI", ranges, []).affected
    assert not is_affected("2.1.215", "PyPI", ranges, []).affected


def test_limit_events() -> None:
    """A range counts only below one of its limits; '*' is infinity."""
    ranges = _eco({"introduced": "1.0"}, {"limit": "2.0"})
    assert is_affected("1.5", "PyPI", ranges, []).affected
    assert not is_affected("2.0", "PyPI", ranges, []).affected
    assert is_affected("9.0", "PyPI", _eco({"introduced": "1.0"}, {"limit": "*"}), []).affected


def test_explicit_versions_list_and_git_ranges() -> None:
    """A listed version is affected whatever the ranges say; GIT ranges are not evaluated."""
    git = [{"type": "GIT", "repo": "https://example.invalid/r",
            "events": [{"introduced": "0"}, {"fixed": "abc123"}]}]
    assert not is_affected("1.0", "PyPI", git, []).affected
    assert is_affected("1.0", "PyPI", git, ["0.9", "1.0"]).affected


def test_debian_ordering_in_ranges() -> None:
    """Debian ranges use dpkg order: ~deb12u1 sorts before the plain revision."""
    ranges = _eco({"introduced": "0"}, {"fixed": "3.0.22-1~deb12u2"})
    assert is_affected("3.0.19-1~deb12u2", "Debian:12", ranges, []).affected
    assert not is_affected("1:1.0", "Debian:12", ranges, []).affected  # epoch wins


def test_malformed_versions_are_reported_not_raised() -> None:
    """A range with an unreadable version is skipped with a note; other ranges still match."""
    ranges = [*_eco({"introduced": "0"}, {"fixed": "not!a!version"}),
              *_eco({"introduced": "0"}, {"fixed": "2.0"})]
    verdict = is_affected("1.0", "PyPI", ranges, [])
    assert verdict.affected
    assert any("not!a!version" in p for p in verdict.problems)
    verdict = is_affected("garbage", "PyPI", _eco({"introduced": "0"}), ["garbage"])
    assert verdict.affected  # still listed explicitly


def test_release_scoping_of_distribution_ecosystems() -> None:
    """OSV "Defined ecosystems": Debian:12, Alpine:v3.18 and Ubuntu:22.04:LTS scope a release."""
    from lamina.packages.model import APK, DEB, OSInfo, Package
    from lamina.scan.targets import target

    deb = target(Package(DEB, "libssl3", "3.0.19-1~deb12u2", "/s", source_name="openssl"),
                 OSInfo("debian", "12"))
    assert deb is not None and deb.name == "openssl" and deb.family == "Debian"
    assert deb.releases is not None
    assert deb.accepts("Debian:12") and deb.accepts("Debian")
    assert not deb.accepts("Debian:11")
    ubuntu = target(Package(DEB, "bash", "5.1", "/s"), OSInfo("ubuntu", "22.04"))
    assert ubuntu is not None and ubuntu.releases is not None
    assert ubuntu.accepts("Ubuntu:22.04:LTS")
    assert not ubuntu.accepts("Ubuntu:22.10")
    apk = target(Package(APK, "musl", "1.2.4-r2", "/s"), OSInfo("alpine", "3.18.4"))
    assert apk is not None and apk.releases is not None
    assert apk.accepts("Alpine:v3.18") and not apk.accepts("Alpine:v3.17")
