"""docs/lint-rules.md has an entry for every registered rule — anchor, severity, why, a bad
and a good example — and the examples behave as documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lamina.lint import Rule, all_rules
from lamina.lint.hadolint_ids import dl_ids
from tests.lint.fixtures import pair, rules_fired, settings_for

DOCS = Path(__file__).resolve().parents[2] / "docs" / "lint-rules.md"
_EXAMPLE = re.compile(r"^(Bad|Good):\n\n```dockerfile\n(.*?)\n```", re.MULTILINE | re.DOTALL)


def _sections() -> dict[str, str]:
    text = DOCS.read_text()
    parts = re.split(r'^<a id="(lm\d{3})"></a>\n', text, flags=re.MULTILINE)
    return {parts[i].upper(): parts[i + 1] for i in range(1, len(parts), 2)}


SECTIONS = _sections()
RULES = all_rules()


def test_every_rule_is_documented_and_nothing_else() -> None:
    assert sorted(SECTIONS) == [r.id for r in RULES]


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_entry_has_severity_why_and_examples(rule: Rule) -> None:
    section = SECTIONS[rule.id]
    assert section.startswith(f"### {rule.id}: {rule.title}\n")
    assert f"Severity: **{rule.severity.value}**" in section
    assert "Why: " in section
    examples = dict((kind, body) for kind, body in _EXAMPLE.findall(section))
    assert set(examples) == {"Bad", "Good"}
    settings = settings_for(rule.id)
    assert rule.id in rules_fired(examples["Bad"] + "\n", settings)
    assert rule.id not in rules_fired(examples["Good"] + "\n", settings)
    fires, passes = pair(rule.id)
    assert examples["Bad"] == fires.read_text().rstrip("\n")
    assert examples["Good"] == passes.read_text().rstrip("\n")


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_entry_names_the_hadolint_ids_it_carries(rule: Rule) -> None:
    """Users migrating from hadolint find each DL id beside the Lamina rule that has it."""
    ids = dl_ids(rule.id)
    heading = SECTIONS[rule.id].split("\n\n", 2)[1]
    if ids:
        assert heading == f"Severity: **{rule.severity.value}** · hadolint: {', '.join(ids)}"
    else:
        assert "hadolint" not in heading
