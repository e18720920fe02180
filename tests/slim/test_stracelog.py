"""Reading strace -f output (strace(1) output format: PID prefix, <unfinished ...> and
<... resumed> halves): only the container's side counts, failures are kept apart."""

from __future__ import annotations

from lamina.slim.stracelog import parse

RUNC = ("/usr/sbin/runc",)

EXEC_PROBE = """\
100 execve("/usr/sbin/runc", ["runc", "exec", "abc", "cat", "/etc/app.conf"], 0x7ffc /* 9 vars */) = 0
100 openat(AT_FDCWD, "/run/runc/abc/state.json", O_RDONLY|O_CLOEXEC) = 3
101 execve("/proc/self/exe", ["runc", "init"], 0xc0000 /* 7 vars */) = 0
101 openat(AT_FDCWD, "/proc/self/fd", O_RDONLY|O_CLOEXEC) = 4
101 execve("/bin/cat", ["cat", "/etc/app.conf"], 0xc000 /* 3 vars */) = 0
101 openat(AT_FDCWD, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC <unfinished ...>
102 openat(AT_FDCWD, "/usr/lib/libc.so.6", O_RDONLY|O_CLOEXEC) = 3
101 <... openat resumed>) = 3
101 openat(AT_FDCWD, "/etc/app.conf", O_RDONLY) = -1 ENOENT (No such file or directory)
101 newfstatat(AT_FDCWD, "relative/x", {st_mode=S_IFREG|0644, st_size=1, ...}, 0) = 0
101 openat(AT_FDCWD, "/etc/caf\\303\\251", O_RDONLY) = 3
101 exit_group(1) = ?
"""


def test_only_the_container_side_counts() -> None:
    log = parse(EXEC_PROBE.splitlines(), cwd="/srv", runc_binaries=RUNC)
    assert "/run/runc/abc/state.json" not in log.used  # runc's own, on the host
    assert "/proc/self/fd" not in log.used  # runc init before it ran the probe
    assert {"/bin/cat", "/etc/ld.so.cache", "/usr/lib/libc.so.6"} <= log.used
    assert "/srv/relative/x" in log.used  # relative paths start at the working directory
    assert "/etc/café" in log.used  # octal escapes decoded as UTF-8


def test_failures_in_order() -> None:
    log = parse(EXEC_PROBE.splitlines(), runc_binaries=RUNC)
    assert log.order == ["/etc/app.conf"]
    assert log.failed["/etc/app.conf"] == "ENOENT"
    assert "/etc/app.conf" not in log.used
