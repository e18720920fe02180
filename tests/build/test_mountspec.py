"""RUN --mount defaults and refusals (Dockerfile reference, "RUN --mount"): pure checks."""

from __future__ import annotations

import pytest

from lamina.build.mountspec import (
    MountError,
    MountSpec,
    check_mounts,
    check_network,
    check_security,
    ram_in_bytes,
)
from lamina.dockerfile.flags import parse_mount


def _one(value: str) -> MountSpec:
    return check_mounts((parse_mount(value),), 7)[0]


def test_defaults_follow_the_reference() -> None:
    cache = _one("type=cache,target=/root/.cache/pip")
    assert (cache.id, cache.sharing, cache.mode, cache.readonly) == (
        "/root/.cache/pip", "shared", 0o755, False)
    secret = _one("type=secret,id=npmrc")
    assert (secret.target, secret.mode, secret.required) == (
        "/run/secrets/npmrc", 0o400, False)
    named = _one("type=secret,target=/etc/key.pem")
    assert named.id == "key.pem"
    env_only = _one("type=secret,id=tok,env=TOKEN")
    assert (env_only.target, env_only.env) == ("", "TOKEN")
    bind = _one("target=/src")
    assert (bind.type, bind.readonly) == ("bind", True)
    assert _one("target=/src,rw").readonly is False
    first, second = check_mounts((parse_mount("type=ssh"), parse_mount("type=ssh,id=gh")), 1)
    assert (first.target, second.target, second.id) == (
        "/run/buildkit/ssh_agent.0", "/run/buildkit/ssh_agent.1", "gh")
    assert _one("type=tmpfs,target=/t,size=64m").size == 64 << 20


def test_sizes_are_binary_as_go_units() -> None:
    assert [ram_in_bytes(s) for s in ("512", "1k", "2MiB", "1g")] == [512, 1024, 2 << 20, 1 << 30]


def test_targets_default_to_the_working_directory() -> None:
    """BuildKit: a relative or missing target is taken against the working directory."""
    (rel, bare) = check_mounts((parse_mount("type=cache,target=pkg"), parse_mount("type=tmpfs")),
                               3, "/app")
    assert (rel.target, rel.id, bare.target) == ("/app/pkg", "/app/pkg", "/app")


def test_network_and_security_need_entitlements() -> None:
    assert check_network(None, 1, frozenset()) == "default"
    assert check_network("host", 1, frozenset({"network.host"})) == "host"
    with pytest.raises(MountError, match=r"--allow network\.host"):
        check_network("host", 1, frozenset())
    with pytest.raises(MountError, match=r"--allow security\.insecure"):
        check_security("insecure", 1, frozenset())
    assert check_security("sandbox", 1, frozenset()) == "sandbox"
