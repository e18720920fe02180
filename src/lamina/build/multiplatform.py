"""``--platform linux/amd64,linux/arm64``: one build per platform, joined in an OCI image index.

Each platform builds as its own build (its TARGETPLATFORM, its base images,
RUN through QEMU when foreign); the result is an image index (image-spec
"image-index") listing each platform's manifest, which the tags then name and
`lamina push` sends whole.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from lamina.build.builder import Builder, BuildResult
from lamina.build.image import ImageState
from lamina.build.progress import Progress
from lamina.build.stepcontext import BuildRequest
from lamina.oci.descriptor import Platform
from lamina.oci.digest import Digest
from lamina.oci.reference import Reference
from lamina.store import mutate
from lamina.store.store import Store


def build_platforms(store: Store, request: BuildRequest, platforms: list[Platform],
                    progress: Progress, warn: Callable[[str], None]) -> BuildResult:
    results: list[tuple[Platform, BuildResult]] = []
    for platform in platforms:
        progress.line(f"# {platform}")
        one = replace(request, platform=str(platform), tags=(), replay_key=None)
        results.append((platform, Builder(store, one, progress, warn).build()))
    refs = [Reference.parse(t, store.default_registry) for t in request.tags]
    stored = mutate.commit_index(
        store, [(Digest.parse(result.image.manifest_digest), platform)
                for platform, result in results], tags=refs)
    index_digest = str(stored.top_digest)
    progress.built(index_digest.removeprefix("sha256:")[:12])
    for ref in refs:
        progress.tagged(f"{ref.familiar_name}:{ref.tag or 'latest'}")
    image = ImageState(index_digest, index_digest, {}, [])
    return BuildResult(image, tuple(f"{r.familiar_name}:{r.tag or 'latest'}" for r in refs),
                       sum(r.cache_hits for _, r in results), sum(r.steps for _, r in results))
