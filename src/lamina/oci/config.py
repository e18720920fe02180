"""The image configuration (image-spec config.md): runtime defaults, history, rootfs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from lamina.errors import InvalidDigest, InvalidManifest
from lamina.oci.digest import Digest


@dataclass(frozen=True)
class HistoryEntry:
    created: str = ""
    created_by: str = ""
    author: str = ""
    comment: str = ""
    empty_layer: bool = False

    @classmethod
    def from_dict(cls, data: Any) -> HistoryEntry:
        if not isinstance(data, dict):
            raise InvalidManifest("config history entries must be objects")
        for key in ("created", "created_by", "author", "comment"):
            if data.get(key) is not None and not isinstance(data[key], str):
                raise InvalidManifest(f"config history entry '{key}' must be a string")
        # bool("false") is True: a mistyped flag would silently drop a layer from the count.
        if data.get("empty_layer") is not None and not isinstance(data["empty_layer"], bool):
            raise InvalidManifest("config history entry 'empty_layer' must be true or false")
        return cls(
            created=data.get("created") or "",
            created_by=data.get("created_by") or "",
            author=data.get("author") or "",
            comment=data.get("comment") or "",
            empty_layer=bool(data.get("empty_layer")),
        )

    def to_dict(self) -> dict[str, Any]:
        # image-spec config.md: every history field is optional; empty ones are left out
        fields = {"created": self.created, "created_by": self.created_by,
                  "author": self.author, "comment": self.comment,
                  "empty_layer": self.empty_layer}
        return {key: value for key, value in fields.items() if value}


@dataclass(frozen=True)
class ImageConfig:
    """A parsed image config; ``raw`` is the exact bytes, whose digest is the image ID."""

    raw: bytes
    doc: dict[str, Any]

    @classmethod
    def parse(cls, data: bytes) -> ImageConfig:
        try:
            doc = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InvalidManifest(f"image config is not valid JSON: {exc}") from exc
        if not isinstance(doc, dict):
            raise InvalidManifest("image config must be a JSON object")
        rootfs = doc.get("rootfs", {"type": "layers", "diff_ids": []})
        if not isinstance(rootfs, dict) or not isinstance(rootfs.get("diff_ids", []), list):
            raise InvalidManifest("image config 'rootfs.diff_ids' must be a list")
        # config.md: rootfs.type MUST be "layers"; an unknown value MUST be an error.
        if rootfs.get("type", "layers") != "layers":
            raise InvalidManifest(
                f"image config rootfs.type {rootfs['type']!r} is not supported: it must be 'layers'"
            )
        for diff_id in rootfs.get("diff_ids", []):
            try:
                Digest.parse(diff_id)
            except (InvalidDigest, AttributeError, TypeError) as exc:
                raise InvalidManifest(f"image config has a bad diff_id {diff_id!r}") from exc
        history = doc.get("history", [])
        if not isinstance(history, list):
            raise InvalidManifest("image config 'history' must be a list")
        for entry in history:
            HistoryEntry.from_dict(entry)
        return cls(data, doc)

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> ImageConfig:
        return cls.parse(json.dumps(doc, separators=(",", ":")).encode())

    @property
    def digest(self) -> Digest:
        return Digest.of(self.raw)

    @property
    def diff_ids(self) -> list[Digest]:
        return [Digest.parse(d) for d in self.doc.get("rootfs", {}).get("diff_ids", [])]

    @property
    def history(self) -> list[HistoryEntry]:
        return [HistoryEntry.from_dict(h) for h in self.doc.get("history", [])]

    @property
    def created(self) -> str:
        return str(self.doc.get("created", "") or "")

    @property
    def os(self) -> str:
        return str(self.doc.get("os", ""))

    @property
    def architecture(self) -> str:
        return str(self.doc.get("architecture", ""))

    @property
    def variant(self) -> str:
        return str(self.doc.get("variant", ""))

    @property
    def container_config(self) -> dict[str, Any]:
        """The runtime defaults (``config``: Env, Cmd, Entrypoint, ...)."""
        value = self.doc.get("config") or {}
        return value if isinstance(value, dict) else {}
