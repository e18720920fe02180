"""Base images: tag them, avoid ``latest``, prefer slim variants, use trusted registries.

Deck: "Don't rely on the 'latest' tag" and "Avoid full-on, heavyweight base images".
"""

from __future__ import annotations

from collections.abc import Iterator

from lamina.dockerfile import ExpansionError, Stage
from lamina.errors import InvalidReference
from lamina.lint.context import LintContext
from lamina.lint.registry import Hit, rule
from lamina.lint.severity import Severity
from lamina.oci.reference import DOCKER_HUB, Reference

# Images whose default variants carry a full distribution (the deck: "Ubuntu, RedHat"), by
# Docker Hub name or registry/repository, and what to use instead.
HEAVYWEIGHT = {
    "ubuntu": "debian:<release>-slim, or a slim language image such as python:<version>-slim",
    "debian": "debian:<release>-slim",
    "python": "python:<version>-slim",
    "node": "node:<version>-slim or node:<version>-alpine",
    "ruby": "ruby:<version>-slim",
    "perl": "perl:<version>-slim",
    "php": "php:<version>-cli-alpine or php:<version>-fpm-alpine",
    "golang": "a multi-stage build that copies the binary onto distroless or scratch",
    "rust": "rust:<version>-slim for building, and a distroless final stage",
    "openjdk": "eclipse-temurin:<version>-jre",
    "eclipse-temurin": "eclipse-temurin:<version>-jre",
    "centos": "a minimal base such as debian:<release>-slim",
    "fedora": "a minimal base such as debian:<release>-slim",
    "buildpack-deps": "a -slim image of the language you build",
    "rockylinux": "rockylinux:<version>-minimal",
    "almalinux": "almalinux:<version>-minimal",
    "amazonlinux": "a minimal base such as debian:<release>-slim",
    "oraclelinux": "oraclelinux:<version>-slim",
    "redhat/ubi8": "redhat/ubi8-minimal or ubi8-micro",
    "redhat/ubi9": "redhat/ubi9-minimal or ubi9-micro",
    "registry.access.redhat.com/ubi8": "registry.access.redhat.com/ubi8-minimal or ubi8-micro",
    "registry.access.redhat.com/ubi9": "registry.access.redhat.com/ubi9-minimal or ubi9-micro",
}
_LIGHT_TAG_MARKERS = ("slim", "alpine", "minimal", "distroless", "jre", "micro", "chiseled")


def base_references(ctx: LintContext) -> Iterator[tuple[Stage, Reference]]:
    """Each stage whose base is an image (not ``scratch``, not an earlier stage, resolvable)."""
    df = ctx.dockerfile
    earlier: set[str] = set()
    for stage in df.stages:
        ref = _reference(ctx, stage, earlier)
        if stage.name:
            earlier.add(stage.name)
        if ref is not None:
            yield stage, ref


def _reference(ctx: LintContext, stage: Stage, earlier: set[str]) -> Reference | None:
    try:
        image = ctx.dockerfile.resolved_base(stage)
    except ExpansionError:
        return None
    if image is None or image.lower() in earlier or image == "scratch":
        return None
    try:
        return Reference.parse_loose(image)
    except InvalidReference:
        return None


def _final_image(ctx: LintContext) -> Reference | None:
    """The image the last stage builds on, following ``FROM <earlier stage>`` back."""
    df = ctx.dockerfile
    by_name = {s.name: s for s in df.stages if s.name}
    refs = {id(stage): ref for stage, ref in base_references(ctx)}
    stage: Stage | None = df.stages[-1]
    seen: set[int] = set()
    while stage is not None and id(stage) not in seen:
        seen.add(id(stage))
        if id(stage) in refs:
            return refs[id(stage)]
        stage = by_name.get(stage.base.lower())
    return None


def _hit(stage: Stage, detail: str | None = None) -> Hit:
    line = stage.from_instruction
    return Hit(line.start_line, line.end_line, detail)


@rule("LM101", Severity.WARNING, "Base image without a tag",
      "Pin the base image to a tag (and ideally a digest): an untagged FROM means "
      "'latest' and changes under you.")
def untagged_base(ctx: LintContext) -> Iterator[Hit]:
    for stage, ref in base_references(ctx):
        if not ref.tag and ref.digest is None:
            yield _hit(stage, f"{ref.familiar()} has no tag")


@rule("LM102", Severity.WARNING, "Base image uses the latest tag",
      "Use a version tag (and ideally a digest) instead of 'latest' so rebuilds are "
      "reproducible.")
def latest_base(ctx: LintContext) -> Iterator[Hit]:
    for stage, ref in base_references(ctx):
        if ref.tag == "latest" and ref.digest is None:
            yield _hit(stage, f"{ref.familiar()} uses :latest")


@rule("LM103", Severity.WARNING, "Heavyweight base image",
      "Build the final stage on a slim variant of the base image; a full distribution "
      "image ships compilers, docs and tools the application never uses.")
def heavyweight_base(ctx: LintContext) -> Iterator[Hit]:
    ref = _final_image(ctx)
    if ref is None:
        return
    name = ref.repository.removeprefix("library/")
    if ref.registry != DOCKER_HUB:
        name = f"{ref.registry}/{ref.repository}"
    if name not in HEAVYWEIGHT:
        return
    tag = ref.tag.lower()
    if not tag and ref.digest is not None:
        return  # a bare digest says nothing about the variant
    if any(marker in tag for marker in _LIGHT_TAG_MARKERS):
        return
    shown = f"{name}:{tag or 'latest'}"
    stage = ctx.final_stage
    yield _hit(stage, f"{shown} is a full image; use {HEAVYWEIGHT[name]}")


@rule("LM104", Severity.ERROR, "Base image from an untrusted registry",
      "Pull base images only from the registries listed in [lint] trusted_registries, "
      "or add this registry to that list.")
def untrusted_registry(ctx: LintContext) -> Iterator[Hit]:
    trusted = [t.rstrip("/") for t in ctx.trusted_registries]
    if not trusted:
        return
    for stage, ref in base_references(ctx):
        name = f"{ref.registry}/{ref.repository}"
        if not any(name == t or name.startswith(t + "/") for t in trusted):
            yield _hit(stage, f"{ref.registry} is not trusted (trusted: {', '.join(trusted)})")
