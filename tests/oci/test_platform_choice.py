"""The one platform picker (image-spec image-index.md, "platform"): from a registry's
index, and from the entries of an index a store holds."""

from __future__ import annotations

import json

import pytest

from lamina.errors import NotFound
from lamina.oci import mediatype
from lamina.oci.descriptor import Platform
from lamina.oci.digest import Digest
from lamina.oci.manifest import Index, parse_manifest
from lamina.oci.platform_choice import choose, choose_present


def _index(*entries: tuple[str, str | None]) -> Index:
    manifests = []
    for digit, platform in entries:
        desc: dict[str, object] = {"mediaType": mediatype.OCI_MANIFEST,
                                   "digest": "sha256:" + digit * 64, "size": 1}
        if platform is not None:
            parsed = Platform.parse(platform)
            desc["platform"] = parsed.to_dict()
        manifests.append(desc)
    index = parse_manifest(json.dumps({"schemaVersion": 2, "mediaType": mediatype.OCI_INDEX,
                                       "manifests": manifests}).encode())
    assert isinstance(index, Index)
    return index


def _digit(digest: Digest) -> str:
    return digest.hex[0]


def test_choose_names_what_the_index_offers() -> None:
    index = _index(("1", "linux/amd64"), ("2", "linux/arm64"))
    assert _digit(choose(index, Platform.parse("linux/arm64")).digest) == "2"
    with pytest.raises(NotFound, match=r"linux/s390x.*it offers: linux/amd64, linux/arm64"):
        choose(index, Platform.parse("linux/s390x"))


def test_choose_present_takes_the_best_entry_the_store_holds() -> None:
    index = _index(("5", "linux/arm/v5"), ("6", "linux/arm/v6"), ("7", "linux/arm/v7"))
    everything = {"5", "6", "7"}
    want = Platform.parse("linux/arm/v7")
    assert _digit(choose_present(index, want, lambda d: _digit(d) in everything).digest) == "7"
    # v7 not copied: the closest fallback present, not merely the first that runs
    assert _digit(choose_present(index, want, lambda d: _digit(d) in {"5", "6"}).digest) == "6"


def test_choose_present_falls_back_to_what_is_there() -> None:
    index = _index(("1", "linux/s390x"), ("2", None))
    want = Platform.parse("linux/amd64")
    assert _digit(choose_present(index, want, lambda d: True).digest) == "2"
    only_foreign = choose_present(index, want, lambda d: _digit(d) == "1")
    assert _digit(only_foreign.digest) == "1"
    with pytest.raises(NotFound, match="no manifest for linux/amd64 in the store"):
        choose_present(index, want, lambda d: False)
