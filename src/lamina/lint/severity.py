"""Finding severities, ordered: error > warning > info > style."""

from __future__ import annotations

from enum import Enum

from lamina.errors import LaminaError


class Severity(Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
    STYLE = "style"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def reaches(self, threshold: Severity | None) -> bool:
        """True when a finding of this severity meets ``threshold`` (None: nothing does)."""
        return threshold is not None and self.rank >= threshold.rank

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls(text.strip().lower())
        except ValueError:
            names = ", ".join(s.value for s in cls)
            raise LaminaError(f"unknown severity {text!r}: use one of {names}") from None


_RANK = {Severity.STYLE: 0, Severity.INFO: 1, Severity.WARNING: 2, Severity.ERROR: 3}


def parse_threshold(text: str) -> Severity | None:
    """A ``--failure-threshold``: a severity, or ``none`` to never fail."""
    return None if text.strip().lower() == "none" else Severity.parse(text)
