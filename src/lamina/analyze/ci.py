"""CI mode, as dive's: three threshold rules, a pass/fail verdict, exit status 1 on failure.

The rules read dive's figures, so a threshold means here what it means to dive:
- lowest-efficiency (default 0.9): fails when efficiency < threshold.
- highest-wasted-bytes (default disabled): fails when dive's wasted bytes > threshold.
- highest-user-wasted-percent (default 0.1): fails when dive's wasted bytes over the
  size of every layer but the first > threshold (a ratio 0..1, as dive's).
Thresholds come from flags, else the ``[analyze.ci]`` table of lamina.toml, else defaults;
any of them may be ``"disabled"``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from lamina.analyze.analysis import Analysis
from lamina.analyze.sizes import parse_size
from lamina.errors import LaminaError

DISABLED: Final = "disabled"
PASS: Final = "pass"
FAIL: Final = "fail"
SKIP: Final = "skip"

LOWEST_EFFICIENCY: Final = "lowest-efficiency"
HIGHEST_WASTED_BYTES: Final = "highest-wasted-bytes"
HIGHEST_USER_WASTED_PERCENT: Final = "highest-user-wasted-percent"
DEFAULTS: Final = {LOWEST_EFFICIENCY: "0.9", HIGHEST_WASTED_BYTES: DISABLED,
                   HIGHEST_USER_WASTED_PERCENT: "0.1"}
# Keys accepted in [analyze.ci]: ours (snake or kebab case) and dive's .dive-ci names.
_ALIASES: Final = {
    LOWEST_EFFICIENCY: ("lowest-efficiency", "lowest_efficiency", "lowestEfficiency"),
    HIGHEST_WASTED_BYTES: ("highest-wasted-bytes", "highest_wasted_bytes",
                           "highestWastedBytes"),
    HIGHEST_USER_WASTED_PERCENT: ("highest-user-wasted-percent",
                                  "highest_user_wasted_percent", "highestUserWastedPercent"),
}


class CiConfigError(LaminaError):
    """A CI threshold is malformed or out of range."""


@dataclass(frozen=True)
class RuleResult:
    name: str
    status: str  # PASS, FAIL or SKIP
    threshold: str
    value: float
    message: str = ""


@dataclass(frozen=True)
class CiResult:
    rules: tuple[RuleResult, ...]

    @property
    def passed(self) -> bool:
        return all(r.status != FAIL for r in self.rules)

    @property
    def exit_code(self) -> int:
        return 0 if self.passed else 1

    def to_doc(self) -> dict[str, Any]:
        return {"pass": self.passed,
                "rules": [{"name": r.name, "status": r.status, "threshold": r.threshold,
                           "value": r.value, "message": r.message} for r in self.rules]}


def thresholds(flags: dict[str, str | None], table: dict[str, Any]) -> dict[str, str]:
    """Flags over the config table over dive's defaults; unknown table keys are refused."""
    known = {alias for names in _ALIASES.values() for alias in names}
    unknown = sorted(set(table) - known)
    if unknown:
        raise CiConfigError(
            f"[analyze.ci] has unknown key(s) {', '.join(unknown)}: expected"
            f" {', '.join(_ALIASES)}")
    out = dict(DEFAULTS)
    for rule, aliases in _ALIASES.items():
        for alias in aliases:
            if alias in table:
                out[rule] = str(table[alias])
        flag = flags.get(rule)
        if flag is not None:
            out[rule] = flag
    for rule, value in out.items():
        _check(rule, value)
    return out


def _ratio(rule: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError as exc:
        raise CiConfigError(
            f"{rule} must be a ratio between 0 and 1 or 'disabled', got {value!r}") from exc
    if not 0.0 <= number <= 1.0:
        raise CiConfigError(f"{rule} must be a ratio between 0 and 1, got {value!r}")
    return number


def _check(rule: str, value: str) -> None:
    if value == DISABLED:
        return
    if rule == HIGHEST_WASTED_BYTES:
        try:
            parse_size(value)
        except LaminaError as exc:
            raise CiConfigError(f"{rule}: {exc}") from exc
    else:
        _ratio(rule, value)


def evaluate(analysis: Analysis, limits: dict[str, str]) -> CiResult:
    results = []
    eff = analysis.efficiency
    value = limits[LOWEST_EFFICIENCY]
    if value == DISABLED:
        results.append(RuleResult(LOWEST_EFFICIENCY, SKIP, value, eff.score, "rule disabled"))
    elif _ratio(LOWEST_EFFICIENCY, value) > eff.score:
        results.append(RuleResult(LOWEST_EFFICIENCY, FAIL, value, eff.score,
                                  f"image efficiency is too low (efficiency={eff.score:.4f}"
                                  f" < threshold={value})"))
    else:
        results.append(RuleResult(LOWEST_EFFICIENCY, PASS, value, eff.score))
    value = limits[HIGHEST_WASTED_BYTES]
    wasted = float(eff.wasted_bytes)
    if value == DISABLED:
        results.append(RuleResult(HIGHEST_WASTED_BYTES, SKIP, value, wasted, "rule disabled"))
    elif eff.wasted_bytes > parse_size(value):
        results.append(RuleResult(HIGHEST_WASTED_BYTES, FAIL, value, wasted,
                                  f"too many bytes wasted (wasted-bytes={eff.wasted_bytes}"
                                  f" > threshold={parse_size(value)})"))
    else:
        results.append(RuleResult(HIGHEST_WASTED_BYTES, PASS, value, wasted))
    value = limits[HIGHEST_USER_WASTED_PERCENT]
    user = analysis.user_wasted_percent
    if value == DISABLED:
        results.append(RuleResult(HIGHEST_USER_WASTED_PERCENT, SKIP, value, user,
                                  "rule disabled"))
    elif _ratio(HIGHEST_USER_WASTED_PERCENT, value) < user:
        results.append(RuleResult(HIGHEST_USER_WASTED_PERCENT, FAIL, value, user,
                                  "too many bytes wasted, relative to the user bytes added"
                                  f" (%-user-wasted-bytes={user:.4f} > threshold={value})"))
    else:
        results.append(RuleResult(HIGHEST_USER_WASTED_PERCENT, PASS, value, user))
    return CiResult(tuple(results))
