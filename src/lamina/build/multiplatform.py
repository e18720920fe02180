"""``--platform linux/amd64,linux/arm64``: one build per platform, joined in an OCI image index.

Each platform builds as its own build (its TARGETPLATFORM, its base images,
RUN through QEMU when foreign); the result is an image index (image-spec
"image-index") listing each platform's manifest, which the tags then name and
`lamina push` sends whole.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace

from lamina.build.builder import Builder, BuildResult
from lamina.build.image import ImageState
from lamina.build.progress import Progress
from lamina.build.stepcontext import BuildRequest
from lamina.oci import mediatype
from lamina.oci.descriptor import Platform
from lamina.oci.digest import Digest
from lamina.oci.reference import Reference
from lamina.store.store import Store


def build_platforms(store: Store, request: BuildRequest, platforms: list[Platform],
                    progress: Progress, warn: Callable[[str], None]) -> BuildResult:
    results: list[tuple[Platform, BuildResult]] = []
    for platform in platforms:
        progress.line(f"# {platform}")
        one = replace(request, platform=str(platform), tags=(), replay_key=None)
        results.append((platform, Builder(store, one, progress, warn).build()))
    manifests = []
    for platform, result in results:
        digest = result.image.manifest_digest
        raw = store.blobs.read_bytes(Digest.parse(digest))
        entry = {"mediaType": json.loads(raw).get("mediaType", mediatype.OCI_MANIFEST),
                 "digest": digest, "size": len(raw), "platform": platform.to_dict()}
        manifests.append(entry)
    raw_index = json.dumps({"schemaVersion": 2, "mediaType": mediatype.OCI_INDEX,
                            "manifests": manifests}, indent=2).encode()
    index_digest = str(store.blobs.put_bytes(raw_index))
    refs = [Reference.parse(t, store.default_registry) for t in request.tags]
    store.add_image(raw_index, tags=refs)
    for line in (f"Successfully built {index_digest.removeprefix('sha256:')[:12]}",
                 *(f"Successfully tagged {r.familiar_name}:{r.tag or 'latest'}" for r in refs)):
        progress.line(line)
    image = ImageState(index_digest, index_digest, {}, [])
    return BuildResult(image, tuple(f"{r.familiar_name}:{r.tag or 'latest'}" for r in refs),
                       sum(r.cache_hits for _, r in results), sum(r.steps for _, r in results))
