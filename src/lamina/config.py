"""Settings: built-in defaults, overridden by ``lamina.toml``, then ``LAMINA_*``, then flags.

Each feature reads its own table of the TOML file (``[registry]``, ``[lint]``,
``[analyze.ci]``, ...) through :func:`load_table`; the values every command
shares live in :class:`Settings`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lamina.errors import LaminaError

CONFIG_ENV = "LAMINA_CONFIG"


class ConfigError(LaminaError):
    """The configuration file is unreadable or has a bad value."""


def config_path(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """The config file in effect: ``--config``, ``$LAMINA_CONFIG``, or ``./lamina.toml``."""
    if explicit:
        return Path(explicit)
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    local = Path("lamina.toml")
    return local if local.is_file() else None


def load_document(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    import tomllib  # here: a command run without a config file never loads the TOML parser

    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(f"config file {path} does not exist") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc


def load_table(name: str, path: Path | None = None) -> dict[str, Any]:
    """One table of the config file, by dotted name (``"analyze.ci"``); empty when absent."""
    doc: Any = load_document(path if path is not None else config_path())
    for part in name.split("."):
        doc = doc.get(part, {}) if isinstance(doc, dict) else {}
    if not isinstance(doc, dict):
        raise ConfigError(f"[{name}] in the config file must be a table")
    return doc


def default_home() -> Path:
    if os.environ.get("LAMINA_HOME"):
        return Path(os.environ["LAMINA_HOME"])
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "lamina"


@dataclass(frozen=True)
class Settings:
    home: Path
    default_registry: str = "docker.io"

    @classmethod
    def load(cls, path: Path | None = None) -> Settings:
        table = load_table("core", path)
        home = Path(table["home"]) if "home" in table else default_home()
        if os.environ.get("LAMINA_HOME"):
            home = Path(os.environ["LAMINA_HOME"])
        registry = str(table.get("default_registry", "docker.io"))
        registry = os.environ.get("LAMINA_DEFAULT_REGISTRY", registry)
        return cls(home=home, default_registry=registry)
