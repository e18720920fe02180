"""Image references, checked against the cases of distribution/reference.

The tables below restate, as data, the facts asserted by distribution/reference's
``reference_test.go`` (TestReferenceParse, TestDomainAndPath) and ``normalize_test.go``
(TestValidateReferenceName, TestValidateRemoteName, TestParseRepositoryInfo,
TestNormalizedSplitHostname, TestParseReferenceWithTagAndDigest), seen through
Docker's normalisation (``ParseNormalizedNamed`` + ``TagNameOnly``): what
``docker pull NAME`` would ask for.
"""

from __future__ import annotations

import pytest

from lamina.errors import InvalidReference, LaminaError
from lamina.oci.digest import Digest
from lamina.oci.reference import (
    DOCKER_HUB,
    Reference,
    check_repository,
    check_tag,
    latest_warning,
)

F64 = "f" * 64
D256 = f"sha256:{F64}"
D512 = "sha512:" + "f" * 128
HEX64 = "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a"
BUSYBOX_DIGEST = "sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa"

# input -> (registry, repository, tag, digest) after normalisation.
VALID: list[tuple[str, tuple[str, str, str, str]]] = [
    # reference_test.go TestReferenceParse
    ("test_com", ("docker.io", "library/test_com", "latest", "")),
    ("test.com:tag", ("docker.io", "library/test.com", "tag", "")),
    ("test.com:5000", ("docker.io", "library/test.com", "5000", "")),
    ("test.com/repo:tag", ("test.com", "repo", "tag", "")),
    ("test:5000/repo", ("test:5000", "repo", "latest", "")),
    ("test:5000/repo:tag", ("test:5000", "repo", "tag", "")),
    (f"test:5000/repo@{D256}", ("test:5000", "repo", "", D256)),
    (f"test:5000/repo:tag@{D256}", ("test:5000", "repo", "tag", D256)),
    ("lowercase:Uppercase", ("docker.io", "library/lowercase", "Uppercase", "")),
    ("sub-dom1.foo.com/bar/baz/quux", ("sub-dom1.foo.com", "bar/baz/quux", "latest", "")),
    ("sub-dom1.foo.com/bar/baz/quux:some-long-tag",
     ("sub-dom1.foo.com", "bar/baz/quux", "some-long-tag", "")),
    ("b.gcr.io/test.example.com/my-app:test.example.com",
     ("b.gcr.io", "test.example.com/my-app", "test.example.com", "")),
    ("xn--n3h.com/myimage:xn--n3h.com", ("xn--n3h.com", "myimage", "xn--n3h.com", "")),
    (f"xn--7o8h.com/myimage:xn--7o8h.com@{D512}",
     ("xn--7o8h.com", "myimage", "xn--7o8h.com", D512)),
    ("foo_bar.com:8080", ("docker.io", "library/foo_bar.com", "8080", "")),
    ("foo/foo_bar.com:8080", ("docker.io", "foo/foo_bar.com", "8080", "")),
    ("192.168.1.1", ("docker.io", "library/192.168.1.1", "latest", "")),
    ("192.168.1.1:tag", ("docker.io", "library/192.168.1.1", "tag", "")),
    ("192.168.1.1:5000", ("docker.io", "library/192.168.1.1", "5000", "")),
    ("192.168.1.1/repo", ("192.168.1.1", "repo", "latest", "")),
    ("192.168.1.1:5000/repo", ("192.168.1.1:5000", "repo", "latest", "")),
    ("192.168.1.1:5000/repo:5050", ("192.168.1.1:5000", "repo", "5050", "")),
    ("[2001:db8::1]/repo", ("[2001:db8::1]", "repo", "latest", "")),
    ("[2001:db8:1:2:3:4:5:6]/repo:tag", ("[2001:db8:1:2:3:4:5:6]", "repo", "tag", "")),
    ("[2001:db8::1]:5000/repo", ("[2001:db8::1]:5000", "repo", "latest", "")),
    ("[2001:db8::1]:5000/repo:tag", ("[2001:db8::1]:5000", "repo", "tag", "")),
    (f"[2001:db8::1]:5000/repo@{D256}", ("[2001:db8::1]:5000", "repo", "", D256)),
    (f"[2001:db8::1]:5000/repo:tag@{D256}", ("[2001:db8::1]:5000", "repo", "tag", D256)),
    ("[2001:db8::]:5000/repo", ("[2001:db8::]:5000", "repo", "latest", "")),
    ("[::1]:5000/repo", ("[::1]:5000", "repo", "latest", "")),
    ("[::1]:5000/foo", ("[::1]:5000", "foo", "latest", "")),
    # TestDomainAndPath / TestNormalizedSplitHostname
    ("test.com/foo", ("test.com", "foo", "latest", "")),
    ("test_com/foo", ("docker.io", "test_com/foo", "latest", "")),
    ("docker/migrator", ("docker.io", "docker/migrator", "latest", "")),
    ("test.com:8080/foo", ("test.com:8080", "foo", "latest", "")),
    ("test-com:8080/foo", ("test-com:8080", "foo", "latest", "")),
    ("foo", ("docker.io", "library/foo", "latest", "")),
    ("xn--n3h.com/foo", ("xn--n3h.com", "foo", "latest", "")),
    ("xn--n3h.com:18080/foo", ("xn--n3h.com:18080", "foo", "latest", "")),
    ("docker.io/foo", ("docker.io", "library/foo", "latest", "")),
    ("docker.io/library/foo", ("docker.io", "library/foo", "latest", "")),
    ("docker.io/library/foo/bar", ("docker.io", "library/foo/bar", "latest", "")),
    # normalize_test.go TestValidateReferenceName (valid names)
    ("docker/docker", ("docker.io", "docker/docker", "latest", "")),
    ("library/debian", ("docker.io", "library/debian", "latest", "")),
    ("debian", ("docker.io", "library/debian", "latest", "")),
    ("docker.io/docker/docker", ("docker.io", "docker/docker", "latest", "")),
    ("docker.io/library/debian", ("docker.io", "library/debian", "latest", "")),
    ("docker.io/debian", ("docker.io", "library/debian", "latest", "")),
    ("index.docker.io/docker/docker", ("docker.io", "docker/docker", "latest", "")),
    ("index.docker.io/library/debian", ("docker.io", "library/debian", "latest", "")),
    ("index.docker.io/debian", ("docker.io", "library/debian", "latest", "")),
    ("127.0.0.1:5000/docker/docker", ("127.0.0.1:5000", "docker/docker", "latest", "")),
    ("127.0.0.1:5000/library/debian", ("127.0.0.1:5000", "library/debian", "latest", "")),
    # library/ is a Docker Hub convention only: other registries keep the name as given.
    ("127.0.0.1:5000/debian", ("127.0.0.1:5000", "debian", "latest", "")),
    ("192.168.0.1", ("docker.io", "library/192.168.0.1", "latest", "")),
    ("192.168.0.1:80", ("docker.io", "library/192.168.0.1", "80", "")),
    ("192.168.0.1:8/debian", ("192.168.0.1:8", "debian", "latest", "")),
    ("192.168.0.2:25000/debian", ("192.168.0.2:25000", "debian", "latest", "")),
    ("thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
     ("docker.io", "library/thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
      "latest", "")),
    ("[fc00::1]:5000/docker", ("[fc00::1]:5000", "docker", "latest", "")),
    ("[fc00::1]:5000/docker/docker", ("[fc00::1]:5000", "docker/docker", "latest", "")),
    ("[fc00:1:2:3:4:5:6:7]:5000/library/debian",
     ("[fc00:1:2:3:4:5:6:7]:5000", "library/debian", "latest", "")),
    # A 64-hex name is fine once a host removes the ambiguity with an image ID.
    (f"docker.io/{HEX64}", ("docker.io", f"library/{HEX64}", "latest", "")),
    # An uppercase first component can only be a host (namespaces are lowercase).
    ("Docker/docker", ("Docker", "docker", "latest", "")),
    ("DOCKER/docker", ("DOCKER", "docker", "latest", "")),
    # TestValidateRemoteName (valid)
    ("docker-rules/docker", ("docker.io", "docker-rules/docker", "latest", "")),
    ("docker---rules/docker", ("docker.io", "docker---rules/docker", "latest", "")),
    ("doc/docker", ("docker.io", "doc/docker", "latest", "")),
    ("d/docker", ("docker.io", "d/docker", "latest", "")),
    ("jess/t", ("docker.io", "jess/t", "latest", "")),
    ("dock__er/docker", ("docker.io", "dock__er/docker", "latest", "")),
    # TestParseRepositoryInfo: familiar, full and ambiguous spellings
    ("fooo/bar", ("docker.io", "fooo/bar", "latest", "")),
    ("index.docker.io/fooo/bar", ("docker.io", "fooo/bar", "latest", "")),
    ("other/library", ("docker.io", "other/library", "latest", "")),
    ("store/foo/bar", ("docker.io", "store/foo/bar", "latest", "")),
    ("Foo/bar", ("Foo", "bar", "latest", "")),
    # reference_test.go's FIXME: an uppercase first component is taken as a host, so valid.
    ("Uppercase/lowercase:tag", ("Uppercase", "lowercase", "tag", "")),
    ("example.com:8000/private/moonbase", ("example.com:8000", "private/moonbase", "latest", "")),
    # TestParseReferenceWithTagAndDigest
    (f"busybox:latest@{BUSYBOX_DIGEST}", ("docker.io", "library/busybox", "latest", BUSYBOX_DIGEST)),
    # localhost is a host even without a dot or port, but only before a '/'.
    ("localhost/foo", ("localhost", "foo", "latest", "")),
    (f"localhost:5000/a/b@{D256}", ("localhost:5000", "a/b", "", D256)),
    ("localhost", ("docker.io", "library/localhost", "latest", "")),
    ("localhost:5000", ("docker.io", "library/localhost", "5000", "")),
    # The issue's own examples.
    ("nginx", ("docker.io", "library/nginx", "latest", "")),
    ("us.gcr.io/myrepo/nginx:v1", ("us.gcr.io", "myrepo/nginx", "v1", "")),
    # The 64-hex rule applies to the whole input only.
    (f"{HEX64}:v1", ("docker.io", f"library/{HEX64}", "v1", "")),
    # Tag edges: 128 characters, first character a word character.
    ("nginx:" + "a" * 128, ("docker.io", "library/nginx", "a" * 128, "")),
    ("nginx:_v1", ("docker.io", "library/nginx", "_v1", "")),
    ("nginx:v1.0.3-rc_1", ("docker.io", "library/nginx", "v1.0.3-rc_1", "")),
]


@pytest.mark.parametrize(("text", "expected"), VALID, ids=[v[0][:60] for v in VALID])
def test_valid_references_normalise_as_docker(text: str, expected: tuple[str, str, str, str]) -> None:
    """distribution/reference reference_test.go + normalize_test.go: valid inputs."""
    ref = Reference.parse(text)
    digest = str(ref.digest) if ref.digest else ""
    assert (ref.registry, ref.repository, ref.tag, digest) == expected


@pytest.mark.parametrize(("text", "expected"), VALID, ids=[v[0][:60] for v in VALID])
def test_canonical_form_reparses_to_itself(text: str, expected: tuple[str, str, str, str]) -> None:
    """The fully qualified form is a fixed point: parsing it again changes nothing."""
    ref = Reference.parse(text)
    assert Reference.parse(str(ref)) == ref
    assert Reference.parse(ref.familiar()) == ref


# input -> a fragment the error message must contain (the rule broken), or "" for any.
INVALID: list[tuple[str, str]] = [
    # reference_test.go TestReferenceParse
    ("", "empty"),
    (":justtag", "repository"),
    (f"@{D256}", "repository"),
    ("repo@sha256:" + "f" * 34, "64 hex"),
    (f"validname@invaliddigest:{F64}", "unsupported algorithm 'invaliddigest'"),
    ("Uppercase:tag", "lowercase"),
    ("test:5000/Uppercase/lowercase:tag", "lowercase"),
    ("a/" * 128 + "a:tag", "255"),
    ("aa/asdf$$^/aa", "asdf$$^"),
    ("[2001:db8::1]", ""),
    ("[2001:db8::1]:5000", ""),
    ("[2001:db8::1]:tag", ""),
    ("[fe80::1%eth0]:5000/repo", "[fe80::1%eth0]:5000"),
    ("[fe80::1%@invalidzone]:5000/repo", ""),
    # normalize_test.go TestValidateReferenceName (invalid names)
    ("https://github.com/docker/docker", "https:"),
    ("docker/Docker", "lowercase"),
    ("-docker", "-docker"),
    ("-docker/docker", "-docker"),
    ("-docker.io/docker/docker", "-docker.io"),
    ("docker///docker", "empty path component"),
    ("docker.io/docker/Docker", "lowercase"),
    ("docker.io/docker///docker", "empty path component"),
    ("[fc00::1]", ""),
    ("[fc00::1]:5000", ""),
    ("fc00::1:5000/debian", "fc00::1:5000"),
    ("[fe80::1%eth0]:5000/debian", ""),
    ("[2001:db8:3:4::192.0.2.33]:5000/debian", ""),
    (HEX64, "64"),
    # TestValidateRemoteName (invalid)
    ("docker-/docker", "docker-"),
    ("-docker-/docker", "-docker-"),
    ("____/____", "____"),
    ("_docker/_docker", "_docker"),
    ("dock..er/docker", "dock..er"),
    ("dock_.er/docker", "dock_.er"),
    ("dock-.er/docker", "dock-.er"),
    ("docker/", "empty path component"),
    ("this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_" * 4 + "/docker", "255"),
    # Our own edges of the same rules.
    ("/foo", "empty path component"),
    ("foo//bar", "empty path component"),
    ("example.com/", "empty"),
    ("nginx:", "empty tag"),
    ("nginx:" + "a" * 129, "128"),
    ("nginx:.v1", "not starting with '.' or '-'"),
    ("nginx:-v1", "not starting with '.' or '-'"),
    ("nginx:v1+build", "v1+build"),
    ("nginx:v1@", "expected 'algorithm:hex'"),
    ("nginx@sha256", "expected 'algorithm:hex'"),
    ("nginx@sha256:" + "F" * 64, "lowercase hex"),
    ("nginx@sha256:" + "f" * 63, "64 hex"),
    ("nginx@sha256:" + "f" * 65, "64 hex"),
    ("nginx@sha512:" + F64, "128 hex"),
    ("nginx@md5:" + "f" * 32, "unsupported algorithm 'md5'"),
    ("nginx@SHA256:" + F64, "algorithm"),
    ("nginx latest", "whitespace"),
    (" nginx", "whitespace"),
    ("nginx\n", "whitespace"),
    ("NGINX", "lowercase"),
    ("nginx/NGINX:1", "lowercase"),
    ("ex ample.com/foo", "whitespace"),
    ("exa_mple.com/foo", "exa_mple.com"),
    ("example.com:port/foo", "example.com:port"),
]


@pytest.mark.parametrize(("text", "fragment"), INVALID, ids=[i[0][:60] or "<empty>" for i in INVALID])
def test_invalid_references_are_refused_naming_the_rule(text: str, fragment: str) -> None:
    """distribution/reference: invalid names; the message names what is wrong."""
    with pytest.raises(InvalidReference) as info:
        Reference.parse(text)
    assert fragment in str(info.value)


def test_invalid_reference_is_a_lamina_error() -> None:
    """The CLI turns LaminaError into one `error:` line; references belong to that family."""
    assert issubclass(InvalidReference, LaminaError)


def test_uppercase_repository_message_mentions_lowercase() -> None:
    """Issue 2, References: an uppercase repository names the rule broken."""
    with pytest.raises(InvalidReference, match="lowercase"):
        Reference.parse("example.com/MyApp:1")


@pytest.mark.integration
@pytest.mark.parametrize("registry", ["example.com", "docker.io"])
def test_name_length_limit_is_255_including_the_registry(registry: str) -> None:
    """reference.go NameTotalLengthMax: the full name (host/path) is at most 255 characters."""
    room = 255 - len(registry) - 1
    ok = "a/" * ((room - 1) // 2) + "a" * (1 + (room - 1) % 2)
    assert len(f"{registry}/{ok}") == 255
    assert Reference.parse(f"{registry}/{ok}:v1").repository == ok
    with pytest.raises(InvalidReference, match="255"):
        Reference.parse(f"{registry}/{ok}b:v1")


def test_hub_name_length_counts_docker_io_prefix() -> None:
    """Docker normalises before checking: 255 characters of path plus docker.io/ is too long."""
    path = "a/" * 127 + "a"
    assert len(path) == 255
    with pytest.raises(InvalidReference, match="255"):
        Reference.parse(path + ":tag-puts-this-over-max")


def test_latest_added_only_without_tag_and_digest() -> None:
    """Issue 2: a reference without a tag gets :latest; a digest alone stays untagged."""
    assert Reference.parse("nginx").tag == "latest"
    assert str(Reference.parse("nginx")) == "docker.io/library/nginx:latest"
    by_digest = Reference.parse(f"nginx@{D256}")
    assert by_digest.tag == ""
    assert str(by_digest) == f"docker.io/library/nginx@{D256}"
    both = Reference.parse(f"nginx:1.25@{D256}")
    assert (both.tag, str(both.digest)) == ("1.25", D256)
    assert str(both) == f"docker.io/library/nginx:1.25@{D256}"


def test_parse_loose_keeps_the_tag_absent() -> None:
    """parse_loose is for callers that must know no tag was given (lint: untagged FROM)."""
    loose = Reference.parse_loose("nginx")
    assert (loose.registry, loose.repository, loose.tag, loose.digest) == (
        "docker.io", "library/nginx", "", None)


def test_digest_is_a_digest_value() -> None:
    """The digest part is parsed into a Digest, not kept as text."""
    ref = Reference.parse(f"localhost:5000/a/b@{D256}")
    assert ref.digest == Digest("sha256", F64)


FAMILIAR: list[tuple[str, str]] = [
    ("docker.io/library/nginx:latest", "nginx:latest"),
    ("nginx", "nginx:latest"),
    ("docker.io/user/repo", "user/repo:latest"),
    ("index.docker.io/library/ubuntu-12.04-base:1", "ubuntu-12.04-base:1"),
    ("docker.io/library/foo/bar:1", "library/foo/bar:1"),
    ("store/foo/bar:1", "store/foo/bar:1"),
    ("other/library:1", "other/library:1"),
    ("127.0.0.1:8000/privatebase:1", "127.0.0.1:8000/privatebase:1"),
    ("example.com/private/moonbase:1", "example.com/private/moonbase:1"),
    ("Foo/bar:1", "Foo/bar:1"),
    (f"busybox:latest@{BUSYBOX_DIGEST}", f"busybox:latest@{BUSYBOX_DIGEST}"),
    (f"docker.io/library/redis@{D256}", f"redis@{D256}"),
]


@pytest.mark.parametrize(("text", "familiar"), FAMILIAR)
def test_familiar_form_as_docker_prints_it(text: str, familiar: str) -> None:
    """normalize.go familiarizeName: docker.io and a lone library/ are dropped."""
    assert Reference.parse(text).familiar() == familiar


def test_familiar_name_without_tag() -> None:
    """normalize_test.go TestParseRepositoryInfo FamiliarName."""
    assert Reference.parse("docker.io/user/repo").familiar_name == "user/repo"
    assert Reference.parse("docker.io/library/nginx").familiar_name == "nginx"
    assert Reference.parse("docker.io/library/nginx").name == "docker.io/library/nginx"


REGISTRY = "registry.example:5000"


@pytest.mark.parametrize(("text", "canonical"), [
    ("nginx", f"{REGISTRY}/nginx:latest"),
    ("team/app:1", f"{REGISTRY}/team/app:1"),
    (f"app@{D256}", f"{REGISTRY}/app@{D256}"),
    ("docker.io/nginx", "docker.io/library/nginx:latest"),
    ("index.docker.io/nginx:1", "docker.io/library/nginx:1"),
    ("localhost/foo", "localhost/foo:latest"),
    ("other.example/x/y:2", "other.example/x/y:2"),
])
def test_configurable_default_registry(text: str, canonical: str) -> None:
    """Issue 2: the default registry is configurable; library/ is a docker.io rule only."""
    ref = Reference.parse(text, default_registry=REGISTRY)
    assert str(ref) == canonical


def test_default_registry_names_are_not_familiarised() -> None:
    """Only docker.io names have a short familiar form."""
    ref = Reference.parse("nginx", default_registry=REGISTRY)
    assert ref.familiar() == f"{REGISTRY}/nginx:latest"
    assert Reference.parse("nginx").registry == DOCKER_HUB


@pytest.mark.parametrize("text", ["nginx", "nginx:latest", "docker.io/library/nginx:latest",
                                  "example.com/app"])
def test_latest_warning_present(text: str) -> None:
    """Issue 2 / deck "Tags": relying on latest is warned about, naming risk and remedy."""
    warning = latest_warning(Reference.parse(text))
    assert warning is not None
    assert "latest" in warning
    assert "change" in warning  # the risk: the image behind the name changes
    assert "explicit version" in warning and "v1.0.3" in warning
    assert Reference.parse(text).familiar() in warning


def test_latest_warning_for_untagged_loose_reference() -> None:
    """A name without tag means latest even before :latest is added (parse_loose)."""
    assert latest_warning(Reference.parse_loose("nginx")) is not None


@pytest.mark.parametrize("text", ["nginx:v1.0.3", f"nginx@{D256}", f"nginx:latest@{D256}",
                                  "nginx:1", "example.com/app:2024-01-01"])
def test_latest_warning_absent_for_pinned_references(text: str) -> None:
    """An explicit tag or a digest pins the image: no warning."""
    assert latest_warning(Reference.parse(text)) is None


def test_with_tag_and_with_digest() -> None:
    """reference_test.go TestWithTag / TestWithDigest: same name, new tag or digest."""
    base = Reference.parse("test.com:8000/foo")
    assert str(base.with_tag("TAG5")) == "test.com:8000/foo:TAG5"
    assert str(base.with_digest(Digest.parse(D256))) == f"test.com:8000/foo@{D256}"
    with pytest.raises(InvalidReference):
        base.with_tag("-foo")


@pytest.mark.parametrize("tag", ["v1\n", "v1 ", "", ".v1", "-v1", "a" * 129, "v1/2", "v1:2", "tág"])
def test_check_tag_refuses(tag: str) -> None:
    """reference.go tag grammar [\\w][\\w.-]{0,127}, ASCII only, nothing after it."""
    with pytest.raises(InvalidReference):
        check_tag(tag)


@pytest.mark.parametrize("path", ["foo\n", "foo/bar\n", "", "foo/", "Foo", "foo bar", "fóo"])
def test_check_repository_refuses(path: str) -> None:
    """reference.go path grammar: lowercase components, nothing after the last one."""
    with pytest.raises(InvalidReference):
        check_repository(path)


@pytest.mark.parametrize("path", ["foo", "library/foo", "a/b/c/d", "a__b", "a-----b", "a.b_c"])
def test_check_repository_accepts(path: str) -> None:
    """reference.go path-component grammar: separators '.', '_', '__', '-+'."""
    check_repository(path)
