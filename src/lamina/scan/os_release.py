"""/etc/os-release and /usr/lib/os-release (os-release(5)): shell-style KEY=value lines."""

from __future__ import annotations

import shlex

from lamina.packages.model import OSInfo


def parse(data: bytes) -> OSInfo | None:
    values: dict[str, str] = {}
    for line in data.decode("utf-8", "replace").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, raw = line.partition("=")
        try:
            parts = shlex.split(raw)
        except ValueError:
            continue
        values[key.strip()] = parts[0] if parts else ""
    if not values.get("ID"):
        return None
    return OSInfo(id=values["ID"], version_id=values.get("VERSION_ID", ""),
                  codename=values.get("VERSION_CODENAME", ""),
                  pretty_name=values.get("PRETTY_NAME", ""))
