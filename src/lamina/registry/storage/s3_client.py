"""The S3 connection a registry process shares among its threads, built from settings.

boto3 clients are thread-safe; one per process keeps its connection pool warm.
Every call goes through ``calling`` so that an unreachable or failing object store
becomes ``StorageUnavailable`` (503 with Retry-After), never a 500 or a half-done write.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from lamina.registry.errors import StorageUnavailable
from lamina.registry.settings import RegistrySettings

# Missing keys and uploads: S3's codes for "not there" (HEAD answers a bare 404).
NOT_FOUND = frozenset({"404", "NoSuchKey", "NoSuchUpload", "NotFound"})
RETRY_AFTER_SECONDS = 5


def make_client(settings: RegistrySettings) -> Any:
    verify: bool | str = settings.s3_verify_tls
    if settings.s3_verify_tls and settings.s3_ca_bundle:
        verify = settings.s3_ca_bundle
    config = Config(
        s3={"addressing_style": settings.s3_addressing},
        signature_version="s3v4",
        # Checksums in trailers are new to botocore and unknown to Ceph RGW 16 and older
        # S3 implementations; SigV4 already covers the payload.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        retries={"max_attempts": 3, "mode": "standard"},
        connect_timeout=5,
        read_timeout=60,
        max_pool_connections=64,
    )
    keys: dict[str, str] = {}
    if settings.s3_access_key:
        keys = {"aws_access_key_id": settings.s3_access_key,
                "aws_secret_access_key": settings.s3_secret_key}
    return boto3.session.Session().client(
        "s3", endpoint_url=settings.s3_endpoint or None, region_name=settings.s3_region,
        verify=verify, config=config, **keys)


def is_missing(exc: ClientError) -> bool:
    return str(exc.response.get("Error", {}).get("Code", "")) in NOT_FOUND


@contextmanager
def calling(what: str) -> Iterator[None]:
    """Turn transport failures and 5xx answers of the object store into StorageUnavailable;
    4xx answers (a missing key, refused credentials) stay ClientError for the caller."""
    try:
        yield
    except ClientError as exc:
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        if status >= 500:
            raise unavailable(what, exc) from exc
        raise
    except BotoCoreError as exc:
        raise unavailable(what, exc) from exc


def unavailable(what: str, exc: Exception) -> StorageUnavailable:
    return StorageUnavailable(
        f"object store unavailable during {what}: {exc}; try again later",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
