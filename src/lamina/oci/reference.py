"""Image references, parsed and normalised exactly as Docker does.

Grammar: distribution/reference (``reference.go``) and Docker's normalisation
(``normalize.go``): a first path component is a registry host when it contains
a dot or a colon, is ``localhost``, or has an uppercase letter; Docker Hub
names get ``library/`` when they have a single component; ``:latest`` is added
when there is neither a tag nor a digest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lamina.errors import InvalidDigest, InvalidReference
from lamina.oci.digest import Digest

DOCKER_HUB = "docker.io"
_HUB_ALIASES = {"index.docker.io"}  # only this alias, as Docker normalises it
DEFAULT_TAG = "latest"
MAX_NAME_LENGTH = 255
MAX_TAG_LENGTH = 128

_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
# A bare 64-hex string is an image ID, never a name (normalize.go ParseNormalizedNamed).
_IDENTIFIER = re.compile(r"[a-f0-9]{64}")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_DOMAIN_LABEL = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = re.compile(
    rf"^(?:{_DOMAIN_LABEL}(?:\.{_DOMAIN_LABEL})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$"
)


def _is_domain(component: str) -> bool:
    return (
        "." in component
        or ":" in component
        or component == "localhost"
        or component.lower() != component
    )


def check_repository(path: str) -> None:
    """Check a repository path (without registry); raise naming the broken rule."""
    if not path:
        raise InvalidReference("repository name must not be empty")
    for component in path.split("/"):
        if not component:
            raise InvalidReference(f"invalid repository {path!r}: empty path component")
        if component.lower() != component:
            raise InvalidReference(f"invalid repository {path!r}: repository name must be lowercase")
        if not _COMPONENT.fullmatch(component):
            raise InvalidReference(
                f"invalid repository {path!r}: component {component!r} must be lowercase"
                " letters and digits separated by '.', '_', '__' or '-'"
            )


def check_tag(tag: str) -> None:
    if len(tag) > MAX_TAG_LENGTH:
        raise InvalidReference(f"invalid tag: {len(tag)} characters, the limit is {MAX_TAG_LENGTH}")
    if not _TAG.fullmatch(tag):
        raise InvalidReference(
            f"invalid tag {tag!r}: use letters, digits, '_', '.' and '-', not starting with '.' or '-'"
        )


@dataclass(frozen=True)
class Reference:
    registry: str
    repository: str
    tag: str = ""
    digest: Digest | None = None

    @classmethod
    def parse(cls, text: str, default_registry: str = DOCKER_HUB) -> Reference:
        """Parse and normalise ``text``; a reference with neither tag nor digest gets ``latest``."""
        ref = cls.parse_loose(text, default_registry)
        if not ref.tag and ref.digest is None:
            return cls(ref.registry, ref.repository, DEFAULT_TAG, None)
        return ref

    @classmethod
    def parse_loose(cls, text: str, default_registry: str = DOCKER_HUB) -> Reference:
        """Parse without adding ``latest`` (for commands that need to know it was absent)."""
        if not text:
            raise InvalidReference("invalid reference: empty string")
        if text != text.strip() or any(c.isspace() for c in text):
            raise InvalidReference(f"invalid reference {text!r}: contains whitespace")
        if _IDENTIFIER.fullmatch(text):
            raise InvalidReference(
                f"invalid reference {text!r}: a 64-character hexadecimal name would be read as an"
                " image ID; put a registry in front (docker.io/...)"
            )
        remainder, at, digest_text = text.partition("@")
        digest = None
        if at:
            try:
                digest = Digest.parse(digest_text)
            except InvalidDigest as exc:
                raise InvalidReference(f"invalid reference {text!r}: {exc}") from exc
        name, tag = remainder, ""
        slash = remainder.rfind("/")
        colon = remainder.rfind(":")
        if colon > slash:
            name, tag = remainder[:colon], remainder[colon + 1 :]
            if not tag:
                raise InvalidReference(f"invalid reference {text!r}: empty tag after ':'")
            check_tag(tag)
        if not name:
            raise InvalidReference(f"invalid reference {text!r}: missing repository name")
        first, sep, rest = name.partition("/")
        if sep and _is_domain(first):
            registry, path = first, rest
            if not _DOMAIN.fullmatch(registry):
                raise InvalidReference(f"invalid reference {text!r}: bad registry host {registry!r}")
        else:
            registry, path = default_registry, name
        if registry in _HUB_ALIASES:
            registry = DOCKER_HUB
        if registry == DOCKER_HUB and "/" not in path:
            path = f"library/{path}"
        try:
            check_repository(path)
        except InvalidReference as exc:
            raise InvalidReference(f"invalid reference {text!r}: {str(exc).split(': ', 1)[-1]}") from exc
        if len(registry) + 1 + len(path) > MAX_NAME_LENGTH:
            raise InvalidReference(
                f"invalid reference {text!r}: name longer than {MAX_NAME_LENGTH} characters"
            )
        return cls(registry, path, tag, digest)

    @property
    def name(self) -> str:
        """``registry/repository``, the fully qualified name."""
        return f"{self.registry}/{self.repository}"

    @property
    def familiar_name(self) -> str:
        """The short form Docker prints: ``nginx`` for ``docker.io/library/nginx``."""
        if self.registry == DOCKER_HUB:
            path = self.repository
            return path[len("library/") :] if path.startswith("library/") and path.count("/") == 1 else path
        return self.name

    def with_tag(self, tag: str) -> Reference:
        check_tag(tag)
        return Reference(self.registry, self.repository, tag, None)

    def with_digest(self, digest: Digest) -> Reference:
        return Reference(self.registry, self.repository, "", digest)

    @property
    def uses_latest(self) -> bool:
        # An absent tag (parse_loose) resolves to latest just the same.
        return self.digest is None and self.tag in ("", DEFAULT_TAG)

    def familiar(self) -> str:
        return self._format(self.familiar_name)

    def _format(self, name: str) -> str:
        out = name
        if self.tag:
            out += f":{self.tag}"
        if self.digest is not None:
            out += f"@{self.digest}"
        return out

    def __str__(self) -> str:
        return self._format(self.name)


LATEST_WARNING = (
    "warning: {ref} uses the 'latest' tag, which moves without notice: the image you get"
    " can change between runs and a local copy is used without asking the registry."
    " Pin an explicit version such as nginx:v1.0.3 (or a digest)."
)


def latest_warning(ref: Reference) -> str | None:
    """The warning to print when ``ref`` relies on ``latest``; None when it does not."""
    return LATEST_WARNING.format(ref=ref.familiar()) if ref.uses_latest else None
