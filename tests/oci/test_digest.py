"""Digests (image-spec descriptor.md "Digests"; go-digest's sha256/sha512 encodings)."""

from __future__ import annotations

import hashlib

import pytest

from lamina.errors import DigestMismatch, InvalidDigest, LaminaError
from lamina.oci.digest import Digest, Hasher

DATA = b"hello lamina\n"
SHA256 = hashlib.sha256(DATA).hexdigest()
SHA512 = hashlib.sha512(DATA).hexdigest()
# The sha256 of no bytes at all, as every registry knows it.
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.mark.parametrize("text", [f"sha256:{SHA256}", f"sha512:{SHA512}", f"sha256:{EMPTY_SHA256}"])
def test_parse_str_round_trip(text: str) -> None:
    """descriptor.md Digests: `algorithm:encoded`; the string form is kept exactly."""
    digest = Digest.parse(text)
    assert str(digest) == text
    assert Digest.parse(str(digest)) == digest
    assert digest.algorithm == text.split(":")[0]


def test_of_matches_hashlib() -> None:
    """descriptor.md: the digest is the hash of the exact bytes."""
    assert Digest.of(DATA) == Digest("sha256", SHA256)
    assert Digest.of(DATA, "sha512") == Digest("sha512", SHA512)
    assert str(Digest.of(b"")) == f"sha256:{EMPTY_SHA256}"


def test_short_is_twelve_characters() -> None:
    """Docker prints IMAGE ID as the first 12 hex characters."""
    assert Digest.parse(f"sha256:{SHA256}").short == SHA256[:12]


def test_verify_accepts_matching_bytes() -> None:
    """descriptor.md Verification: content that hashes to the digest is accepted."""
    Digest.parse(f"sha256:{SHA256}").verify(DATA)
    Digest.parse(f"sha512:{SHA512}").verify(DATA)


def test_verify_raises_digest_mismatch_naming_both() -> None:
    """descriptor.md Verification: content that does not match MUST be refused."""
    expected = Digest.parse(f"sha256:{SHA256}")
    with pytest.raises(DigestMismatch) as info:
        expected.verify(DATA + b"x")
    message = str(info.value)
    assert str(expected) in message
    assert str(Digest.of(DATA + b"x")) in message
    assert issubclass(DigestMismatch, LaminaError)


@pytest.mark.parametrize("algorithm", ["sha256", "sha512"])
def test_hasher_streaming_equals_one_shot(algorithm: str) -> None:
    """Hashing chunk by chunk gives the one-shot digest and counts every byte."""
    data = bytes(range(256)) * 1000
    hasher = Hasher(algorithm)
    for start in range(0, len(data), 4093):
        chunk = data[start:start + 4093]
        hasher.update(memoryview(chunk) if start % 2 else bytearray(chunk))
    assert hasher.digest() == Digest.of(data, algorithm)
    assert hasher.size == len(data)


def test_hasher_from_digest_uses_its_algorithm() -> None:
    """Streaming verification hashes with the algorithm the expected digest names."""
    expected = Digest.parse(f"sha512:{SHA512}")
    hasher = expected.hasher()
    hasher.update(DATA[:5])
    hasher.update(DATA[5:])
    assert hasher.digest() == expected


def test_hasher_of_nothing() -> None:
    assert str(Hasher().digest()) == f"sha256:{EMPTY_SHA256}"
    assert Hasher().size == 0


def test_hasher_refuses_unsupported_algorithm() -> None:
    with pytest.raises(InvalidDigest, match="md5"):
        Hasher("md5")


# text -> fragment of the error naming the rule.
INVALID: list[tuple[str, str]] = [
    ("", "expected 'algorithm:hex'"),
    (SHA256, "expected 'algorithm:hex'"),  # missing colon
    (f"sha256{SHA256}", "expected 'algorithm:hex'"),
    (f":{SHA256}", "expected 'algorithm:hex'"),
    ("sha256:", "expected 'algorithm:hex'"),
    (f"sha256:{SHA256.upper()}", "lowercase hex"),
    (f"sha256:{SHA256[:-1]}A", "lowercase hex"),
    (f"sha256:{SHA256[:-1]}g", "lowercase hex"),
    (f"sha256:{SHA256[:-1]}\n", "lowercase hex"),
    (f"sha256:{SHA256}\n", "lowercase hex"),
    (f"sha256:{SHA256[:-1]}", "64 hex characters, got 63"),
    (f"sha256:{SHA256}0", "64 hex characters, got 65"),
    (f"sha512:{SHA256}", "128 hex characters, got 64"),
    (f"sha256:{SHA512}", "64 hex characters, got 128"),
    (f"SHA256:{SHA256}", "bad algorithm name"),
    (f"sha-:{SHA256}", "bad algorithm name"),
    (f"md5:{'0' * 32}", "unsupported algorithm 'md5'"),
    (f"sha384:{'0' * 96}", "unsupported algorithm 'sha384'"),
    (f"blake3:{SHA256}", "unsupported algorithm 'blake3'"),
]


@pytest.mark.parametrize(("text", "fragment"), INVALID, ids=[repr(i[0])[:40] for i in INVALID])
def test_invalid_digests_refused_naming_the_rule(text: str, fragment: str) -> None:
    """descriptor.md Digests: registered algorithms and their encodings only."""
    with pytest.raises(InvalidDigest) as info:
        Digest.parse(text)
    assert fragment in str(info.value)


def test_digests_order_and_hash() -> None:
    """Digests are values: usable as dict keys and sortable (stable output)."""
    a = Digest.parse(f"sha256:{'0' * 64}")
    b = Digest.parse(f"sha256:{'1' * 64}")
    assert sorted([b, a]) == [a, b]
    assert {a: 1}[Digest.parse(str(a))] == 1
