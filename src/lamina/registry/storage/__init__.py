"""Blob backends behind the small ``BlobStore`` protocol (filesystem now, S3 later)."""

from lamina.registry.storage.base import BlobInfo, BlobStore, UploadFile
from lamina.registry.storage.filesystem import FilesystemBlobStore

__all__ = ["BlobInfo", "BlobStore", "FilesystemBlobStore", "UploadFile"]
