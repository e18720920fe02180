"""Registry metadata behind the ``MetaStore`` protocol (SQLite now, PostgreSQL later)."""

from lamina.registry.meta.base import (
    BlobRecord,
    ManifestRecord,
    MetaStore,
    MissingReferences,
    Stats,
    TagMove,
    UploadRecord,
)
from lamina.registry.meta.sqlite import SqliteMetaStore

__all__ = [
    "BlobRecord",
    "ManifestRecord",
    "MetaStore",
    "MissingReferences",
    "SqliteMetaStore",
    "Stats",
    "TagMove",
    "UploadRecord",
]
