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


def open_meta(settings: RegistrySettings) -> MetaStore:
    return SqliteMetaStore(settings.root / META_FILE)
