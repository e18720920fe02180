"""Descriptors and platforms (image-spec descriptor.md, image-index.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lamina.errors import InvalidDigest, InvalidManifest
from lamina.oci.digest import Digest


def _normal_variant(architecture: str, variant: str) -> str:
    if architecture == "arm64" and variant in ("8", "v8"):
        return ""
    if architecture == "arm" and variant in ("", "5", "6", "7", "8"):
        return "v" + (variant or "7")
    return variant


def _arm_level(variant: str) -> int | None:
    return int(variant[1:]) if variant[:1] == "v" and variant[1:].isdigit() else None


@dataclass(frozen=True)
class Platform:
    os: str
    architecture: str
    variant: str = ""
    os_version: str = ""

    @classmethod
    def parse(cls, text: str) -> Platform:
        """Parse ``os/arch[/variant]`` as given to ``--platform``."""
        parts = text.split("/")
        if len(parts) not in (2, 3) or not all(parts):
            raise ValueError(f"invalid platform {text!r}: expected os/arch[/variant]")
        return cls(parts[0], parts[1], parts[2] if len(parts) == 3 else "")

    @classmethod
    def from_dict(cls, data: Any) -> Platform:
        if not isinstance(data, dict):
            raise InvalidManifest("platform must be an object")
        os_ = data.get("os")
        arch = data.get("architecture")
        if not isinstance(os_, str) or not isinstance(arch, str):
            raise InvalidManifest("platform needs string fields 'os' and 'architecture'")
        for key in ("variant", "os.version"):
            if data.get(key) is not None and not isinstance(data[key], str):
                raise InvalidManifest(f"platform '{key}' must be a string")
        return cls(os_, arch, data.get("variant") or "", data.get("os.version") or "")

    def to_dict(self) -> dict[str, str]:
        out = {"architecture": self.architecture, "os": self.os}
        if self.variant:
            out["variant"] = self.variant
        if self.os_version:
            out["os.version"] = self.os_version
        return out

    def matches(self, wanted: Platform) -> bool:
        """True when an image for this platform runs on ``wanted`` (see :meth:`compatibility`)."""
        return self.compatibility(wanted) is not None

    def compatibility(self, wanted: Platform) -> int | None:
        """How well this platform serves ``wanted``: 0 exact, larger is a fallback, None never.

        Follows containerd's platforms (Normalize, Only), which docker pull uses:
        arm64's v8 is implied, plain arm means arm/v7, and an arm CPU runs the
        lower arm variants down to v5.
        """
        if self.os != wanted.os or self.architecture != wanted.architecture:
            return None
        have = _normal_variant(self.architecture, self.variant)
        want = _normal_variant(wanted.architecture, wanted.variant)
        if have == want:
            return 0
        if self.architecture == "arm":
            have_level, want_level = _arm_level(have), _arm_level(want)
            if have_level is None or want_level is None or not 5 <= have_level < want_level:
                return None
            return want_level - have_level
        return 1 if not wanted.variant else None

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)


@dataclass(frozen=True)
class Descriptor:
    media_type: str
    digest: Digest
    size: int
    urls: tuple[str, ...] = ()
    annotations: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    platform: Platform | None = None
    artifact_type: str = ""

    @classmethod
    def from_dict(cls, data: Any) -> Descriptor:
        if not isinstance(data, dict):
            raise InvalidManifest("descriptor must be a JSON object")
        media_type = data.get("mediaType")
        if not isinstance(media_type, str) or not media_type:
            raise InvalidManifest("descriptor needs a string 'mediaType'")
        digest_text = data.get("digest")
        if not isinstance(digest_text, str):
            raise InvalidManifest("descriptor needs a string 'digest'")
        try:
            digest = Digest.parse(digest_text)
        except InvalidDigest as exc:
            raise InvalidManifest(f"descriptor digest: {exc}") from exc
        size = data.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise InvalidManifest("descriptor needs a non-negative integer 'size'")
        urls = data.get("urls", [])
        if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
            raise InvalidManifest("descriptor 'urls' must be a list of strings")
        annotations = data.get("annotations", {})
        if not isinstance(annotations, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in annotations.items()
        ):
            raise InvalidManifest("descriptor 'annotations' must map strings to strings")
        platform = Platform.from_dict(data["platform"]) if "platform" in data else None
        artifact_type = data.get("artifactType", "")
        if not isinstance(artifact_type, str):
            raise InvalidManifest("descriptor 'artifactType' must be a string")
        return cls(media_type, digest, size, tuple(urls), annotations, platform, artifact_type)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "mediaType": self.media_type,
            "digest": str(self.digest),
            "size": self.size,
        }
        if self.urls:
            out["urls"] = list(self.urls)
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        if self.platform is not None:
            out["platform"] = self.platform.to_dict()
        if self.artifact_type:
            out["artifactType"] = self.artifact_type
        return out
