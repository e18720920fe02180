"""Which BlobStore and MetaStore a registry process uses, from its settings.

The default keeps both under ``root`` (files and SQLite); ``storage = "s3"`` puts blobs
in a bucket, ``database = "postgresql://..."`` the metadata in PostgreSQL.
"""

from __future__ import annotations

from lamina.registry.meta.base import MetaStore
from lamina.registry.meta.sqlite import SqliteMetaStore
from lamina.registry.settings import RegistrySettings
from lamina.registry.storage.base import BlobStore
from lamina.registry.storage.filesystem import FilesystemBlobStore

META_FILE = "meta.sqlite3"


def open_blobs(settings: RegistrySettings) -> BlobStore:
    if settings.storage == "s3":
        from lamina.registry.storage.s3 import S3BlobStore  # boto3 loads only when used

        return S3BlobStore(settings)
    return FilesystemBlobStore(settings.root)


def open_meta(settings: RegistrySettings, migrate: bool | None = None) -> MetaStore:
    """``migrate``: apply schema migrations first (default: the ``migrate_on_start`` setting)."""
    if settings.database:
        from lamina.registry.meta.postgres import PostgresMetaStore  # psycopg only when used

        return PostgresMetaStore(settings.database, settings.database_pool,
                                 settings.migrate_on_start if migrate is None else migrate,
                                 settings.tag_cache_seconds)
    return SqliteMetaStore(settings.root / META_FILE)
