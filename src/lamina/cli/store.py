"""Opening the local store with the settings in effect."""

from __future__ import annotations

from lamina.config import Settings
from lamina.store.store import Store


def open_store() -> Store:
    settings = Settings.load()
    return Store(settings.home, settings.default_registry)
