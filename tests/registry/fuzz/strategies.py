"""Hostile input for the registry fuzz suite: names, references, digests, numbers,
header values, JSON documents, request bodies."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

from hypothesis import strategies as st

from lamina.oci import mediatype

HOSTILE_NUMBERS = st.one_of(
    st.sampled_from(["²", "٣", "9" * 4301, "-1", "0x10", "1e9", "", " 1", "1 ", "+1",
                     "99999999999999999999", "9223372036854775808", "0" * 30]),
    st.integers(-(2**70), 2**70).map(str))

NAMES = st.one_of(
    st.sampled_from(["a", "fuzz/a", "fuzz/b-c", "A", "a//b", "..", ".", "-a", "a-", "é",
                     "a" * 300, "_catalog", "a/../b", "a\x00b", "a b", "a%2Fb"]),
    st.from_regex(r"[a-z0-9]{1,8}(/[a-z0-9._-]{1,8}){0,2}", fullmatch=True),
    st.text(max_size=40))

DIGESTS = st.one_of(
    st.sampled_from(["sha256:" + "a" * 64, "sha256:" + "A" * 64, "sha256:zz", "sha512:" + "b" * 128,
                     "md5:" + "c" * 32, "sha256:", ":", "sha256:" + "a" * 65]),
    st.binary(max_size=16).map(lambda b: "sha256:" + b.hex().ljust(64, "0")[:64]),
    st.text(max_size=80))

REFERENCES = st.one_of(
    DIGESTS, st.sampled_from(["latest", ".INVALID_MANIFEST_NAME", "-x", "t" * 129, "v1", "_"]),
    st.text(max_size=60))


def segment(text: str, safe: str = "") -> str:
    return quote(text, safe=safe)


QUERIES = st.lists(
    st.tuples(st.sampled_from(["n", "last", "digest", "mount", "from", "tag", "artifactType",
                               "digest-algorithm", "limit", "since", "scope", "service"]),
              st.one_of(HOSTILE_NUMBERS, DIGESTS, st.text(max_size=30))),
    max_size=3).map(urlencode)

PATHS = st.one_of(
    st.builds(lambda n, r: f"/v2/{segment(n, '/')}/manifests/{segment(r, ':')}", NAMES,
              REFERENCES),
    st.builds(lambda n, d: f"/v2/{segment(n, '/')}/blobs/{segment(d, ':')}", NAMES, DIGESTS),
    st.builds(lambda n, s, q: f"/v2/{segment(n, '/')}/blobs/uploads/{segment(s)}?{q}", NAMES,
              st.one_of(st.text(max_size=40), st.from_regex(r"[0-9a-f]{32}", fullmatch=True)),
              QUERIES),
    st.builds(lambda n, q: f"/v2/{segment(n, '/')}/blobs/uploads/?{q}", NAMES, QUERIES),
    st.builds(lambda n, q: f"/v2/{segment(n, '/')}/tags/list?{q}", NAMES, QUERIES),
    st.builds(lambda n, d, q: f"/v2/{segment(n, '/')}/referrers/{segment(d, ':')}?{q}", NAMES,
              DIGESTS, QUERIES),
    QUERIES.map(lambda q: f"/v2/_catalog?{q}"),
    st.sampled_from(["/v2/", "/v2", "/", "/metrics", "/v2/../v2/", "/api/v1/users",
                     "/api/v1/namespaces", "/api/v1/robots", "/api/v1/audit"]),
    st.text(max_size=60).map(lambda t: "/" + segment(t, "/")))

# Header values as bytes: anything h11 lets a client send (no CR, LF or NUL).
HEADER_VALUES = st.one_of(
    st.binary(max_size=80).map(
        lambda b: bytes(c for c in b if (c >= 0x20 and c != 0x7F) or c == 9).strip()),
    HOSTILE_NUMBERS.map(lambda t: t.encode()),
    st.builds(lambda a, b: f"{a}-{b}".encode(), HOSTILE_NUMBERS, HOSTILE_NUMBERS),
    st.sampled_from([m.encode() for m in sorted(mediatype.MANIFESTS)] + [b"*/*", b"bytes=0-"]),
).map(lambda value: value.strip(b" \t"))  # h11 refuses to send surrounding whitespace

HEADERS = st.dictionaries(
    st.sampled_from(["Content-Type", "Content-Range", "Range", "Accept", "Authorization",
                     "Docker-Content-Digest", "X-Forwarded-For", "If-None-Match"]),
    HEADER_VALUES, max_size=4)

JSON_LEAVES = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**80), 2**80), st.floats(allow_nan=False,
                                                                      allow_infinity=False),
    st.text(max_size=30), DIGESTS,
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF))  # lone surrogates
JSON_DOCS = st.recursive(
    JSON_LEAVES,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(max_size=12), inner, max_size=4)),
    max_leaves=20)

# Texts no encoder produces: deep nesting, huge numbers, NaN, broken syntax.
RAW_JSON = st.one_of(
    st.integers(1, 5000).map(lambda d: "[" * d + "]" * d),
    st.integers(1, 5000).map(lambda d: '{"a":' * d + "1" + "}" * d),
    st.integers(1, 6000).map(lambda n: '{"schemaVersion": ' + "9" * n + "}"),
    st.sampled_from(["NaN", "Infinity", '{"a": -Infinity}', "1e99999", "{", '{"a":}', "\ufeff{}",
                     '{"schemaVersion": 2, "schemaVersion": 1}']),
    st.text(max_size=200))


def manifest_mutations(base: dict[str, Any]) -> st.SearchStrategy[bytes]:
    """A valid manifest with one field replaced by hostile JSON, or hostile JSON whole."""
    keys = st.sampled_from(["schemaVersion", "mediaType", "config", "layers", "subject",
                            "annotations", "artifactType", "manifests"])

    def replace(key: str, value: Any) -> bytes:
        return json.dumps({**base, key: value}).encode()

    def replace_in_layer(key: str, value: Any) -> bytes:
        layer = {**base["layers"][0], key: value}
        return json.dumps({**base, "layers": [layer]}).encode()

    return st.one_of(
        st.builds(replace, keys, JSON_DOCS),
        st.builds(replace_in_layer, st.sampled_from(["mediaType", "digest", "size", "urls",
                                                     "annotations", "platform"]), JSON_DOCS),
        JSON_DOCS.map(lambda doc: json.dumps(doc).encode()),
        RAW_JSON.map(lambda text: text.encode()))


BODIES = st.one_of(st.binary(max_size=2000), JSON_DOCS.map(lambda d: json.dumps(d).encode()),
                   RAW_JSON.map(lambda t: t.encode()))
