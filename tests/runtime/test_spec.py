"""The OCI runtime config built from a ContainerSpec (runtime-spec v1.0.2 config.md,
config-linux.md), checked as data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lamina.errors import LaminaError
from lamina.runtime import BindMount, ContainerSpec, ExecUser, MountPoint, ProcessSpec
from lamina.runtime.spec import (
    DEFAULT_CAPABILITIES,
    ETC_FILES,
    build_config,
    loopback_hook,
    mountpoints_for,
    process_env,
)

ETC = {target: Path("/bundle") / target.rsplit("/", 1)[1] for target in ETC_FILES}


def config(spec: ContainerSpec, limits: dict[str, int] | None = None) -> dict[str, Any]:
    return build_config(spec, user=ExecUser(0, 0), etc_files=ETC, hostname="abc",
                        host_hard_limits={"RLIMIT_NOFILE": 20000} if limits is None else limits)


def spec(**fields: Any) -> ContainerSpec:
    return ContainerSpec(ProcessSpec(["sh"]), rootfs=Path("/r"), **fields)


def test_process_and_root() -> None:
    """config.md "Process" and "Root": args, env, cwd, user, no terminal, rootfs path."""
    doc = build_config(ContainerSpec(ProcessSpec(["a", "b"], env=["PATH=/x", "K=v"], cwd="/w"),
                                     rootfs=Path("/r")),
                       user=ExecUser(5, 6, (7,)), etc_files=ETC, hostname="h",
                       host_hard_limits={})
    assert doc["ociVersion"] == "1.0.2"
    proc = doc["process"]
    assert proc["args"] == ["a", "b"] and proc["env"] == ["PATH=/x", "HOSTNAME=h", "K=v"]
    assert proc["cwd"] == "/w" and proc["terminal"] is False
    assert proc["user"] == {"uid": 5, "gid": 6, "additionalGids": [7]}
    assert doc["root"] == {"path": "/r", "readonly": False}
    assert doc["hostname"] == "h"


def test_namespaces_host_network_by_default() -> None:
    """config-linux.md "Namespaces": mount, pid, ipc, uts; no network namespace (docker build)."""
    types = {n["type"] for n in config(spec())["linux"]["namespaces"]}
    assert types == {"mount", "pid", "ipc", "uts"}


def test_network_none_adds_a_network_namespace() -> None:
    """config-linux.md "Namespaces": ``network`` without a path is a new, empty namespace."""
    types = {n["type"] for n in config(spec(network="none"))["linux"]["namespaces"]}
    assert types == {"mount", "pid", "ipc", "uts", "network"}


def test_unknown_network_is_refused() -> None:
    with pytest.raises(LaminaError, match="network 'bridge' is not supported"):
        config(spec(network="bridge"))


def test_no_cgroup_demands() -> None:
    """config-linux.md "Control groups": no cgroupsPath or resources that could fail here."""
    linux = config(spec())["linux"]
    assert "cgroupsPath" not in linux and "resources" not in linux


def test_docker_capabilities_and_paths() -> None:
    """config.md "capabilities" and config-linux.md masked/readonly paths: docker's defaults."""
    doc = config(spec())
    caps = doc["process"]["capabilities"]
    assert caps["bounding"] == caps["effective"] == caps["permitted"] == list(
        DEFAULT_CAPABILITIES)
    assert "CAP_SYS_ADMIN" not in caps["bounding"]
    assert "/proc/kcore" in doc["linux"]["maskedPaths"]
    assert "/proc/sys" in doc["linux"]["readonlyPaths"]


def test_mount_table() -> None:
    """config.md "Mounts": docker's defaults, /etc files, then binds in order."""
    doc = config(spec(binds=[BindMount(Path("/h"), "/c", readonly=True)]))
    dests = [m["destination"] for m in doc["mounts"]]
    assert dests == ["/proc", "/dev", "/dev/pts", "/sys", "/sys/fs/cgroup", "/dev/mqueue",
                     "/dev/shm", "/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/c"]
    assert doc["mounts"][-1] == {"destination": "/c", "type": "bind", "source": "/h",
                                 "options": ["rbind", "rprivate", "ro"]}
    sysfs = doc["mounts"][3]
    assert sysfs["type"] == "sysfs" and "ro" in sysfs["options"]


def test_extra_mounts_are_appended() -> None:
    """The seam for slim: raw OCI mounts go last, untouched."""
    extra = {"destination": "/.trace", "type": "bind", "source": "/t", "options": ["rbind"]}
    assert config(spec(extra_mounts=[extra]))["mounts"][-1] == extra


def test_path_and_hostname_default_like_docker() -> None:
    """Docker gives a process its default PATH and HOSTNAME when the image sets none."""
    assert config(spec())["process"]["env"] == [
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOSTNAME=abc"]


def test_env_order_is_dockers() -> None:
    """moby ReplaceOrAppendEnvValues: PATH, HOSTNAME replaced in place; others appended."""
    assert process_env(["A=1", "HOSTNAME=mine", "PATH=/x", "A=2"], "h") == [
        "PATH=/x", "HOSTNAME=mine", "A=1", "A=2"]


def test_extra_hooks_follow_lamina_hooks() -> None:
    """config.md "POSIX-platform Hooks": the caller's hooks, after Lamina's own per event."""
    mine = {"path": "/bin/true"}
    doc = build_config(spec(network="none", hooks={"createRuntime": [mine],
                                                   "poststop": [mine]}),
                       user=ExecUser(0, 0), etc_files=ETC, hostname="h", host_hard_limits={},
                       network_hooks=[{"path": "/bin/false"}])
    assert doc["hooks"] == {"createRuntime": [{"path": "/bin/false"}, mine], "poststop": [mine]}
    with pytest.raises(LaminaError, match="unknown hook event 'onStart'"):
        config(spec(hooks={"onStart": [mine]}))


def test_rlimit_nofile_is_the_host_hard_limit() -> None:
    """config.md "POSIX process" rlimits: never above the host's hard limit."""
    assert config(spec())["process"]["rlimits"] == [
        {"type": "RLIMIT_NOFILE", "hard": 20000, "soft": 20000}]


def test_rlimit_above_the_hard_limit_is_refused() -> None:
    """Raising a hard limit needs CAP_SYS_RESOURCE; the request is refused with a reason."""
    with pytest.raises(LaminaError, match="RLIMIT_NOFILE: hard limit 30000 is above"):
        config(spec(rlimits={"RLIMIT_NOFILE": (1024, 30000)}))
    with pytest.raises(LaminaError, match="soft limit 10 is above its hard limit 5"):
        config(spec(rlimits={"RLIMIT_NPROC": (10, 5)}))


@pytest.mark.parametrize(("fields", "message"), [
    ({"process": ProcessSpec([])}, "args is empty"),
    ({"process": ProcessSpec(["sh"], cwd="rel")}, "must be an absolute path"),
    ({"process": ProcessSpec(["sh"], env=["NOEQUALS"])}, "KEY=VALUE"),
    ({"binds": [BindMount(Path("/h"), "/a/../b")]}, "must not contain '..'"),
])
def test_bad_specs_are_refused(fields: dict[str, Any], message: str) -> None:
    base: dict[str, Any] = {"process": ProcessSpec(["sh"]), "rootfs": Path("/r")} | fields
    with pytest.raises(LaminaError, match=message):
        config(ContainerSpec(**base))


@pytest.mark.parametrize(("text", "expected"), [
    ("/h:/c", BindMount(Path("/h"), "/c")),
    ("/h:/c:ro", BindMount(Path("/h"), "/c", readonly=True)),
    ("/h:/c:rw", BindMount(Path("/h"), "/c")),
])
def test_bind_syntax(text: str, expected: BindMount) -> None:
    """docker run -v HOST:CONTAINER[:ro|rw]."""
    assert BindMount.parse(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("/h", "expected HOST:CONTAINER"),
    ("/h:/c:rx", "mode must be 'ro' or 'rw'"),
    ("h:/c", "host path must be absolute"),
    ("/h:c", "container path must be absolute"),
])
def test_bad_bind_syntax(text: str, message: str) -> None:
    with pytest.raises(LaminaError, match=message):
        BindMount.parse(text)


def test_mountpoints_on_the_rootfs(tmp_path: Path) -> None:
    """Only destinations outside earlier mounts touch the rootfs; file binds are files."""
    host_file = tmp_path / "f"
    host_file.write_text("")
    points = mountpoints_for(spec(binds=[BindMount(tmp_path, "/data"),
                                         BindMount(host_file, "/etc/f"),
                                         BindMount(tmp_path, "/dev/inside-dev")]))
    assert points == [MountPoint("/proc", True), MountPoint("/dev", True),
                      MountPoint("/sys", True), MountPoint("/etc/hostname", False),
                      MountPoint("/etc/hosts", False), MountPoint("/etc/resolv.conf", False),
                      MountPoint("/data", True), MountPoint("/etc/f", False)]


def test_loopback_hook_only_without_network() -> None:
    """config.md "POSIX-platform Hooks": createRuntime hook sets lo up under network none."""
    hook = loopback_hook("/bin/sh", "/usr/bin/nsenter", "/sbin/ip")
    with_none = build_config(spec(network="none"), user=ExecUser(0, 0), etc_files=ETC,
                             hostname="h", host_hard_limits={}, network_hooks=[hook])
    assert with_none["hooks"] == {"createRuntime": [hook]}
    assert hook["path"] == "/bin/sh" and "/sbin/ip link set lo up" in hook["args"][2]
    with_host = build_config(spec(), user=ExecUser(0, 0), etc_files=ETC, hostname="h",
                             host_hard_limits={}, network_hooks=[hook])
    assert "hooks" not in with_host


def test_missing_bind_source_counts_as_a_directory(tmp_path: Path) -> None:
    """docker -v creates a missing host path as a directory, so its mount point is one too."""
    points = mountpoints_for(spec(binds=[BindMount(tmp_path / "missing", "/m")]))
    assert points[-1] == MountPoint("/m", True)


def test_unlimited_host_nofile_sets_no_limit() -> None:
    """An unlimited (-1) host limit is inherited rather than written as a number."""
    assert config(spec(), limits={"RLIMIT_NOFILE": -1})["process"]["rlimits"] == []
