"""Real containers under runc on a busybox OverlayFS rootfs (runtime-spec v1.0.2)."""

from __future__ import annotations

import io
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import pytest

from lamina.runtime import (
    BindMount,
    Container,
    ContainerError,
    ContainerSpec,
    ContainerTimeout,
    ProcessSpec,
    UnknownUser,
    mounted,
    mountpoints_for,
    new_container_id,
    run,
    short_id,
)
from lamina.runtime.runc import Runc, find_runc
from lamina.runtime.spec import MASKED_PATHS, READONLY_PATHS
from tests.runtime.helpers import Runner


def runc_ids() -> list[str]:
    return Runc(find_runc()).list_ids()


def mounts_under(path: Path) -> list[str]:
    return [line for line in Path("/proc/self/mountinfo").read_text().splitlines()
            if str(path) in line]


@pytest.mark.integration
@pytest.mark.parametrize("code", [0, 3])
def test_exit_code_passes_through(run_in: Runner, code: int) -> None:
    """config.md "process": the container's exit status is the process's."""
    assert run_in(["sh", "-c", f"exit {code}"]).exit_code == code


@pytest.mark.integration
def test_missing_command_exits_127_like_docker(run_in: Runner) -> None:
    """Docker reports an executable that cannot be found as exit code 127."""
    assert run_in(["/no/such/command"]).exit_code == 127
    missing = run_in(["no-such-command"])
    assert missing.exit_code == 127
    assert 'exec: "no-such-command": executable file not found in $PATH' in missing.stderr
    assert run_in(["sh", "-c", "no-such-command"]).exit_code == 127


@pytest.mark.integration
def test_command_that_is_not_executable_exits_126_like_docker(run_in: Runner,
                                                              tmp_path: Path) -> None:
    """Docker reports a command that exists but cannot be executed as exit code 126."""
    layer = tmp_path / "layer"
    (layer / "opt").mkdir(parents=True)
    (layer / "opt/script").write_text("#!/bin/sh\necho never\n")
    (layer / "opt/script").chmod(0o644)
    ran = run_in(["/opt/script"], lowers=[layer])
    assert ran.exit_code == 126
    assert "permission denied" in ran.stderr


@pytest.mark.integration
def test_stdout_and_stderr_are_kept_apart(run_in: Runner) -> None:
    """Output of the process reaches the caller's sinks, each stream to its own."""
    ran = run_in(["sh", "-c", "echo to-out; echo to-err >&2"])
    assert (ran.stdout, ran.stderr) == ("to-out\n", "to-err\n")


@pytest.mark.integration
def test_output_streams_to_a_callback_and_stdin_is_fed(busybox_lower: Path,
                                                        tmp_path: Path) -> None:
    """A callable sink receives bytes as they are written; stdin bytes reach the process."""
    chunks: list[bytes] = []
    spec = ContainerSpec(ProcessSpec(["sh", "-c", "cat; echo done"]), rootfs=Path())
    with mounted([busybox_lower], tmp_path / "up", tmp_path / "work",
                 mountpoints=mountpoints_for(spec)) as fs:
        result = run(replace(spec, rootfs=fs.path), stdout=chunks.append, stdin=b"fed\n")
    assert result.exit_code == 0
    assert b"".join(chunks) == b"fed\ndone\n"


@pytest.mark.integration
def test_output_goes_straight_to_a_real_file(run_in: Runner, busybox_lower: Path,
                                             tmp_path: Path) -> None:
    """A sink with a file descriptor is handed to the container as is."""
    spec = ContainerSpec(ProcessSpec(["echo", "in-file"]), rootfs=Path())
    with (tmp_path / "out.txt").open("wb") as out, \
            mounted([busybox_lower], tmp_path / "up", tmp_path / "work",
                    mountpoints=mountpoints_for(spec)) as fs:
        run(replace(spec, rootfs=fs.path), stdout=out)
    assert (tmp_path / "out.txt").read_text() == "in-file\n"


@pytest.mark.integration
def test_env_and_cwd_are_applied(run_in: Runner) -> None:
    """config.md "process": env and cwd; PATH defaults to docker's when the image sets none."""
    ran = run_in(["sh", "-c", 'echo "$GREETING|$PATH|$(pwd)"'], env=["GREETING=hi"],
                 cwd="/tmp")
    assert ran.stdout == "hi|/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin|/tmp\n"


@pytest.mark.integration
def test_environment_bytes_match_docker(run_in: Runner) -> None:
    """Same environ, in the same order, as `docker run -e FOO=1 -e PATH=/x:/bin` (measured)."""
    ran = run_in(["cat", "/proc/self/environ"], env=["FOO=1", "PATH=/x:/bin"])
    host = short_id(ran.container_id)
    assert ran.stdout.split("\0") == ["PATH=/x:/bin", f"HOSTNAME={host}", "FOO=1",
                                      "HOME=/root", ""]


@pytest.mark.integration
def test_home_comes_from_passwd_for_the_user(run_in: Runner) -> None:
    """As in docker, HOME is the user's passwd home when the image does not set it."""
    assert run_in(["sh", "-c", "echo $HOME; umask"], user="nobody").stdout == "/\n0022\n"


@pytest.mark.integration
def test_caller_hook_sees_the_container_state(run_in: Runner, tmp_path: Path) -> None:
    """The hooks seam (for slim): a createRuntime hook gets id and init pid on stdin."""
    state = tmp_path / "state.json"
    hook = {"path": "/bin/sh", "args": ["sh", "-c", f"cat > {state}"]}
    ran = run_in(["true"], hooks={"createRuntime": [hook]})
    doc = json.loads(state.read_text())
    assert doc["id"] == ran.container_id and doc["pid"] > 0


@pytest.mark.integration
@pytest.mark.parametrize(("user", "expected"), [
    ("", "0 0"),
    ("1234", "1234 0"),
    ("1234:555", "1234 555"),
    ("nobody", "65534 65534"),
    ("nobody:root", "65534 0"),
    ("root:nogroup", "0 65534"),
])
def test_user_numeric_and_by_name(run_in: Runner, user: str, expected: str) -> None:
    """config.md "User": uid/gid, with names resolved from the image's /etc/passwd, /etc/group."""
    assert run_in(["sh", "-c", "echo $(id -u) $(id -g)"], user=user).stdout == expected + "\n"


@pytest.mark.integration
def test_unknown_user_name_is_refused(run_in: Runner) -> None:
    """A USER name missing from the image's /etc/passwd is an error naming it (as docker)."""
    with pytest.raises(UnknownUser, match="unable to find user ghost"):
        run_in(["true"], user="ghost")


@pytest.mark.integration
def test_network_none_has_only_loopback(run_in: Runner) -> None:
    """config-linux.md "Namespaces": a new network namespace holds only lo."""
    ran = run_in(["cat", "/proc/net/dev"], network="none")
    names = [line.split(":")[0].strip() for line in ran.stdout.splitlines()[2:]]
    assert names == ["lo"]


@pytest.mark.integration
def test_network_none_has_loopback_up_like_docker(run_in: Runner) -> None:
    """docker --network none: ``lo`` is up with 127.0.0.1, so local servers still work."""
    ran = run_in(["sh", "-c", "cat /sys/class/net/lo/flags; ip -o addr show lo"],
                 network="none")
    flags, *addresses = ran.stdout.splitlines()
    assert int(flags, 16) & 0x1  # IFF_UP
    assert any("inet 127.0.0.1/8" in line for line in addresses)


@pytest.mark.integration
def test_host_network_by_default(run_in: Runner) -> None:
    """Without a network namespace the container sees the host's interfaces (docker build)."""
    host = [line.split(":")[0].strip()
            for line in Path("/proc/net/dev").read_text().splitlines()[2:]]
    ran = run_in(["cat", "/proc/net/dev"])
    inside = [line.split(":")[0].strip() for line in ran.stdout.splitlines()[2:]]
    assert sorted(inside) == sorted(host)


@pytest.mark.integration
def test_pid_namespace_makes_the_process_pid_1(run_in: Runner) -> None:
    """config-linux.md "Namespaces": pid namespace; the command is process 1."""
    assert run_in(["sh", "-c", "echo $$"]).stdout == "1\n"


@pytest.mark.integration
def test_hostname_is_the_short_container_id(run_in: Runner) -> None:
    """UTS namespace with docker's hostname for a build container: the 12-hex ID."""
    ran = run_in(["sh", "-c", "hostname; cat /etc/hostname"])
    assert ran.stdout == f"{short_id(ran.container_id)}\n" * 2
    assert len(short_id(ran.container_id)) == 12


@pytest.mark.integration
def test_bind_mounts_and_readonly_binds(run_in: Runner, tmp_path: Path) -> None:
    """config.md "Mounts": bind mounts; ``ro`` refuses writes."""
    rw, ro = tmp_path / "rw", tmp_path / "ro"
    rw.mkdir()
    ro.mkdir()
    (ro / "given.txt").write_text("from host\n")
    ran = run_in(["sh", "-c", "echo written > /data/out.txt; cat /in/given.txt; "
                  "echo nope > /in/x 2>/dev/null; echo ro-write=$?"],
                 binds=[BindMount(rw, "/data"), BindMount.parse(f"{ro}:/in:ro")])
    assert (rw / "out.txt").read_text() == "written\n"
    assert ran.stdout == "from host\nro-write=1\n"
    assert not (ro / "x").exists()
    # The bind targets were made in the init layer, not the upper dir (the layer).
    assert not (ran.upper / "data").exists()
    assert not (ran.upper / "in").exists()


@pytest.mark.integration
def test_missing_bind_source_is_created_like_docker(run_in: Runner, tmp_path: Path) -> None:
    """docker run -v HOST:CTR creates a missing HOST directory."""
    source = tmp_path / "new" / "dir"
    ran = run_in(["sh", "-c", "echo hi > /m/f"], binds=[BindMount(source, "/m")])
    assert ran.exit_code == 0
    assert (source / "f").read_text() == "hi\n"


@pytest.mark.integration
def test_nofile_rlimit_is_the_hosts_hard_limit(run_in: Runner) -> None:
    """config.md "POSIX process" rlimits: NOFILE within (at) the host's hard limit."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    ran = run_in(["sh", "-c", "ulimit -n; ulimit -Hn"])
    assert ran.stdout == f"{hard}\n{hard}\n"


@pytest.mark.integration
def test_docker_default_capabilities(run_in: Runner) -> None:
    """config.md "capabilities": docker's 14 defaults (CapEff 0xa80425fb), no CAP_SYS_ADMIN."""
    ran = run_in(["grep", "CapEff", "/proc/self/status"])
    assert ran.stdout.split() == ["CapEff:", "00000000a80425fb"]


@pytest.mark.integration
def test_masked_and_readonly_paths(run_in: Runner) -> None:
    """config-linux.md "Masked Paths"/"Readonly Paths": docker's defaults apply."""
    ran = run_in(["sh", "-c", "cat /proc/self/mountinfo; wc -c < /proc/timer_list; "
                  "echo 1 > /proc/sys/kernel/domainname; echo sys-write=$?"])
    *mountinfo, timer_list_size, sys_write = ran.stdout.splitlines()
    mount_points = {line.split()[4] for line in mountinfo}
    present = [p for p in MASKED_PATHS + READONLY_PATHS if Path(p).exists()]
    assert present and set(present) <= mount_points
    assert (timer_list_size.strip(), sys_write) == ("0", "sys-write=1")


@pytest.mark.integration
def test_cleanup_after_success_failure_and_exec_error(run_in: Runner, tmp_path: Path) -> None:
    """No runc container, cgroup or mount stays behind, whatever way the process ends."""
    ids = [run_in(["true"]).container_id, run_in(["sh", "-c", "exit 9"]).container_id,
           run_in(["no-such-command"]).container_id]
    assert not set(ids) & set(runc_ids())
    assert mounts_under(tmp_path) == []
    cgroups = Path("/sys/fs/cgroup")
    assert not [p for cid in ids for depth in ("*/", "*/*/", "*/*/*/")
                for p in cgroups.glob(depth + cid)]


@pytest.mark.integration
def test_timeout_kills_and_cleans_up(run_in: Runner, tmp_path: Path) -> None:
    """A container past its timeout is killed; ContainerTimeout; nothing left behind."""
    container_id = new_container_id()
    with pytest.raises(ContainerTimeout, match=r"did not finish within 0\.5s"):
        run_in(["sleep", "60"], timeout=0.5, container_id=container_id)
    assert container_id not in runc_ids()
    assert mounts_under(tmp_path) == []


@pytest.mark.integration
def test_interrupt_during_run_cleans_up(busybox_lower: Path, tmp_path: Path) -> None:
    """KeyboardInterrupt (or any exception) while waiting still deletes container and mount."""
    spec = ContainerSpec(ProcessSpec(["sleep", "60"]), rootfs=Path())

    def interrupt(_: bytes) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt), mounted(
            [busybox_lower], tmp_path / "up", tmp_path / "work",
            mountpoints=mountpoints_for(spec)) as fs, Container(
                replace(spec, rootfs=fs.path)) as container:
        container.start()
        container.init_pid()
        interrupt(b"")
    assert container.id not in runc_ids()
    assert mounts_under(tmp_path) == []
    assert container.bundle is not None and not container.bundle.exists()


CHILD = """
import sys
from dataclasses import replace
from pathlib import Path
from lamina.runtime import ContainerSpec, ProcessSpec, mounted, mountpoints_for, run
lower, tmp, cid = sys.argv[1:4]
spec = ContainerSpec(ProcessSpec(["sleep", "60"]), rootfs=Path())
with mounted([Path(lower)], Path(tmp) / "up", Path(tmp) / "work",
             mountpoints=mountpoints_for(spec)) as fs:
    run(replace(spec, rootfs=fs.path), container_id=cid)
"""


@pytest.mark.integration
def test_ctrl_c_in_the_caller_cleans_up(busybox_lower: Path, tmp_path: Path) -> None:
    """A real SIGINT to the calling process (Ctrl-C): container, bundle and mount all go."""
    cid = new_container_id()
    runc = Runc(find_runc())
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(busybox_lower), str(tmp_path),
                              cid], stderr=subprocess.PIPE, cwd=Path(__file__).parents[2])
    try:
        while '"status": "running"' not in runc.quiet("state", cid).stdout:
            assert child.poll() is None, child.stderr.read() if child.stderr else ""
            time.sleep(0.02)
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert b"KeyboardInterrupt" in err
    assert cid not in runc_ids()
    assert mounts_under(tmp_path) == []
    assert not list(Path(tempfile.gettempdir()).glob(f"lamina-{cid[:12]}-*"))


@pytest.mark.integration
def test_exec_in_a_running_container(busybox_lower: Path, tmp_path: Path) -> None:
    """runc exec joins the running container: same PID namespace and filesystem."""
    spec = ContainerSpec(ProcessSpec(["sh", "-c", "echo ready > /tmp/flag; sleep 60"]),
                         rootfs=Path())
    out = io.BytesIO()
    with mounted([busybox_lower], tmp_path / "up", tmp_path / "work",
                 mountpoints=mountpoints_for(spec)) as fs, Container(
                     replace(spec, rootfs=fs.path)) as container:
        container.start()
        pid = container.init_pid()
        assert Path(f"/proc/{pid}").exists()
        code = container.exec(["sh", "-c", "while [ ! -f /tmp/flag ]; do sleep 0.05; done; "
                               "cat /tmp/flag; cat /proc/1/cmdline | tr '\\0' ' '"],
                              stdout=out, timeout=30)
        container.kill()
        assert container.wait(30) == 137
    assert code == 0
    # busybox sh execs its last command, so pid 1 is now sleep.
    assert out.getvalue() == b"ready\nsleep 60 "
    assert container.id not in runc_ids()


@pytest.mark.integration
def test_start_failure_is_a_clear_error(busybox_lower: Path, tmp_path: Path) -> None:
    """A working directory that is a file cannot be entered: runc's reason is reported."""
    spec = ContainerSpec(ProcessSpec(["true"], cwd="/etc/passwd"), rootfs=Path())
    with mounted([busybox_lower], tmp_path / "up", tmp_path / "work",
                 mountpoints=mountpoints_for(spec)) as fs, \
            pytest.raises(ContainerError, match="could not start container"):
        run(replace(spec, rootfs=fs.path))
    assert mounts_under(tmp_path) == []


def test_rootfs_must_exist(tmp_path: Path) -> None:
    """A missing root filesystem is refused before runc is called."""
    spec = ContainerSpec(ProcessSpec(["true"]), rootfs=tmp_path / "missing")
    with pytest.raises(ContainerError, match="is not a directory"):
        run(spec)


@pytest.mark.integration
def test_runc_list_is_readable() -> None:
    """The cleanup checks above rely on ``runc list`` answering."""
    assert subprocess.run([find_runc(), "list"], capture_output=True).returncode == 0


@pytest.mark.integration
def test_runtime_that_cannot_start_leaves_no_fds_or_bundle(busybox_lower: Path,
                                                           tmp_path: Path) -> None:
    """A runtime binary that cannot be executed: the error surfaces, pipes and bundle go."""
    fake = tmp_path / "not-runc"
    fake.write_text("")  # not executable
    spec = ContainerSpec(ProcessSpec(["true"]), rootfs=busybox_lower)
    fds_before = set(os.listdir("/proc/self/fd"))
    container = Container(spec, runc=Runc(str(fake)))
    with pytest.raises(PermissionError), container:
        container.start(stdout=io.BytesIO(), stderr=io.BytesIO())
    assert set(os.listdir("/proc/self/fd")) <= fds_before
    assert container.bundle is not None and not container.bundle.exists()
