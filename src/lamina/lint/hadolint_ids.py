"""hadolint's rule ids and the Lamina rules with the same meaning.

Used to read hadolint's ``# hadolint ignore=DL3008`` pragmas and ``.hadolint.yaml``, and
by bench/lint.py to compare findings. ShellCheck's ``SC####`` ids are the same in both.
"""

from __future__ import annotations

from collections.abc import Iterable

# DL id -> Lamina rule id. docs/lint-rules.md names the DL id beside each rule.
DL_TO_LM: dict[str, str] = {
    "DL1000": "LM000",
    "DL3000": "LM512",
    "DL3001": "LM508",
    "DL3002": "LM401",
    "DL3003": "LM501",
    "DL3004": "LM403",
    "DL3006": "LM101",
    "DL3007": "LM102",
    "DL3008": "LM204",
    "DL3009": "LM201",
    "DL3011": "LM503",
    "DL3013": "LM211",
    "DL3014": "LM202",
    "DL3015": "LM203",
    "DL3016": "LM231",
    "DL3018": "LM221",
    "DL3019": "LM220",
    "DL3020": "LM505",
    "DL3021": "LM515",
    "DL3012": "LM513",
    "DL3022": "LM304",
    "DL3023": "LM305",
    "DL3025": "LM502",
    "DL3026": "LM104",
    "DL3027": "LM205",
    "DL3028": "LM250",
    "DL3029": "LM105",
    "DL3030": "LM240",
    "DL3032": "LM241",
    "DL3033": "LM242",
    "DL3034": "LM240",
    "DL3035": "LM243",
    "DL3036": "LM241",
    "DL3037": "LM242",
    "DL3038": "LM240",
    "DL3040": "LM241",
    "DL3041": "LM242",
    "DL3042": "LM210",
    "DL3044": "LM516",
    "DL3045": "LM511",
    "DL3046": "LM507",
    "DL3047": "LM506",
    "DL3048": "LM520",
    "DL3049": "LM521",
    "DL3050": "LM522",
    "DL3051": "LM523",
    "DL3052": "LM523",
    "DL3053": "LM523",
    "DL3054": "LM523",
    "DL3055": "LM523",
    "DL3056": "LM523",
    "DL3057": "LM517",
    "DL3058": "LM523",
    "DL3059": "LM301",
    "DL3060": "LM232",
    "DL3062": "LM251",
    "DL3066": "LM406",
    "DL3067": "LM306",
    "DL4000": "LM504",
    "DL4001": "LM509",
    "DL4003": "LM513",
    "DL4004": "LM513",
    "DL4005": "LM514",
    "DL4006": "LM510",
}


def dl_ids(lamina_id: str) -> list[str]:
    """The hadolint ids a Lamina rule carries (several DL ids may share one rule)."""
    return sorted(dl for dl, lm in DL_TO_LM.items() if lm == lamina_id)


def lamina_ids(ids: Iterable[str]) -> set[str]:
    """``ids`` with each hadolint DL id replaced by its Lamina rule (unknown DL ids dropped)."""
    out: set[str] = set()
    for rule_id in ids:
        rule_id = rule_id.upper()
        if rule_id.startswith("DL"):
            if rule_id in DL_TO_LM:
                out.add(DL_TO_LM[rule_id])
        else:
            out.add(rule_id)
    return out
