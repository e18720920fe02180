"""Images with exactly known waste, built by docker (classic builder) from the busybox base."""

from __future__ import annotations

import pytest

from tests.analyze.helpers import DOCKERFILE, KEY, BuiltImage, base_sizes, docker_build
from tests.tools import run


@pytest.fixture(scope="session")
def waste_image(docker: str, busybox_image: str,
                tmp_path_factory: pytest.TempPathFactory) -> BuiltImage:
    context = tmp_path_factory.mktemp("waste-context")
    (context / "Dockerfile").write_text(DOCKERFILE.format(base=busybox_image))
    (context / "id_rsa").write_bytes(KEY)
    tag = "lamina-test/analyze-waste:1"
    docker_build(docker, context, tag)
    archive = context.parent / "waste-image.tar"
    run([docker, "save", "-o", str(archive), tag])
    base, busybox = base_sizes()
    return BuiltImage(tag, archive, base, busybox)


@pytest.fixture(scope="session")
def waste_image_v2(docker: str, waste_image: BuiltImage,
                   tmp_path_factory: pytest.TempPathFactory) -> BuiltImage:
    """The waste image plus one step: /data/new added, /data/f2 removed, /data/f3 chmod'ed."""
    context = tmp_path_factory.mktemp("waste-v2-context")
    (context / "Dockerfile").write_text(
        f"FROM {waste_image.tag}\n"
        "RUN head -c 300 /dev/urandom > /data/new && rm /data/f2 && chmod 600 /data/f3\n")
    tag = "lamina-test/analyze-waste:2"
    docker_build(docker, context, tag)
    archive = context.parent / "waste-image-v2.tar"
    run([docker, "save", "-o", str(archive), tag])
    return BuiltImage(tag, archive, waste_image.base_bytes, waste_image.busybox_bytes)

