"""The versioning-policy seam: the registry asks a ``PushPolicy`` before a manifest is
stored or a tag or manifest deleted (immutable tags, quotas). The default allows all."""

from __future__ import annotations

from typing import Protocol

from lamina.oci.digest import Digest
from lamina.registry.meta.base import ManifestRecord, ManifestReferences


class PushPolicy(Protocol):
    def check_push(self, repository: str, record: ManifestRecord, needs: ManifestReferences,
                   tags: tuple[str, ...]) -> None:
        """Raise ``Denied`` when storing ``record`` (and pointing ``tags`` at it) breaks a rule."""

    def check_delete(self, repository: str, reference: Digest | str) -> None:
        """Raise ``Denied`` when deleting the tag or manifest ``reference`` breaks a rule."""

    def check_upload(self, repository: str) -> None:
        """Raise ``Denied`` when no blob upload may start in ``repository`` (a full quota)."""


class NoPolicy:
    def check_push(self, repository: str, record: ManifestRecord, needs: ManifestReferences,
                   tags: tuple[str, ...]) -> None:
        return None

    def check_delete(self, repository: str, reference: Digest | str) -> None:
        return None

    def check_upload(self, repository: str) -> None:
        return None
