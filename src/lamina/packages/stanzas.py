"""Text databases made of blank-line separated blocks: dpkg's deb822 paragraphs and
apk's installed-database blocks. Kept as raw lines, so a trimmed copy of the
database can be written back exactly as it was."""

from __future__ import annotations


def blocks(text: str) -> list[list[str]]:
    out: list[list[str]] = []
    current: list[str] = []
    for line in text.splitlines():
        if line.strip():
            current.append(line)
        elif current:
            out.append(current)
            current = []
    if current:
        out.append(current)
    return out


def join(kept: list[list[str]]) -> bytes:
    """Blocks written back as a database file (each followed by a blank line)."""
    return "".join("\n".join(block) + "\n\n" for block in kept).encode()
