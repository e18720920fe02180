"""OverlayFS root filesystems: the upper dir holds exactly a step's changes (issue 6, RUN).

Kernel docs filesystems/overlayfs.rst: "whiteouts and opaque directories"; the
init layer mirrors docker's "-init" layer so runtime mount points stay out of it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from lamina.layers.overlay import MountError
from lamina.runtime import MountPoint, mounted, prepare, teardown
from tests.runtime.helpers import Runner


def tree(root: Path) -> dict[str, tuple[int, int, bytes | str | None]]:
    """Every entry under ``root``: (mode, mtime_ns, content or link target)."""
    out: dict[str, tuple[int, int, bytes | str | None]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath, name)
            st = path.lstat()
            content: bytes | str | None = None
            if stat.S_ISLNK(st.st_mode):
                content = os.readlink(path)
            elif stat.S_ISREG(st.st_mode):
                content = path.read_bytes()
            out[str(path.relative_to(root))] = (st.st_mode, st.st_mtime_ns, content)
    return out


def all_paths(root: Path) -> set[str]:
    return set(tree(root))


def mounted_under(path: Path) -> bool:
    return str(path) in Path("/proc/self/mountinfo").read_text()


@pytest.mark.integration
def test_writes_land_in_upper_and_lowers_stay_untouched(run_in: Runner,
                                                        busybox_lower: Path) -> None:
    """overlayfs.rst "Upper and Lower": changes go to the upper dir only."""
    before = tree(busybox_lower)
    ran = run_in(["sh", "-c", "echo new > /root/made.txt; echo more >> /etc/passwd"])
    assert ran.exit_code == 0
    assert tree(busybox_lower) == before
    assert all_paths(ran.upper) == {"root", "root/made.txt", "etc", "etc/passwd"}
    assert (ran.upper / "root/made.txt").read_text() == "new\n"
    assert (ran.upper / "etc/passwd").read_text().endswith("more\n")


@pytest.mark.integration
def test_deleting_a_lower_file_makes_a_whiteout(run_in: Runner) -> None:
    """overlayfs.rst "whiteouts": a deleted lower file is a 0/0 character device in upper."""
    ran = run_in(["rm", "/bin/ls"])
    st = (ran.upper / "bin/ls").lstat()
    assert stat.S_ISCHR(st.st_mode)
    assert os.major(st.st_rdev) == 0 and os.minor(st.st_rdev) == 0
    assert all_paths(ran.upper) == {"bin", "bin/ls"}


@pytest.mark.integration
def test_replacing_a_lower_dir_makes_it_opaque(run_in: Runner) -> None:
    """overlayfs.rst "opaque directories": a dir removed and made again hides the lower one."""
    ran = run_in(["sh", "-c", "rm -rf /usr && mkdir /usr && touch /usr/only"])
    assert os.getxattr(ran.upper / "usr", "trusted.overlay.opaque") == b"y"
    assert all_paths(ran.upper) == {"usr", "usr/only"}


@pytest.mark.integration
def test_mount_points_stay_out_of_the_upper_dir(run_in: Runner, tmp_path: Path) -> None:
    """Docker's init layer: /proc, /sys, /dev and the /etc files never reach the layer.

    The busybox image has no /proc, /sys or /dev and no /etc/hosts, /etc/hostname,
    /etc/resolv.conf; runc would otherwise create them in the upper dir.
    """
    ran = run_in(["sh", "-c", "cat /etc/hostname > /dev/null; ls /proc/self > /dev/null"])
    assert ran.exit_code == 0
    assert all_paths(ran.upper) == set()


@pytest.mark.integration  # mounts an overlay
def test_image_without_etc_gets_only_what_the_step_writes(tmp_path: Path) -> None:
    """A lower without /etc: the init layer makes /etc/hosts, the upper gets only etc/motd."""
    lower, upper = tmp_path / "lower", tmp_path / "up"
    (lower / "bin").mkdir(parents=True)
    with mounted([lower], upper, tmp_path / "work",
                 mountpoints=[MountPoint("/etc/hosts", False)]) as fs:
        assert fs.init_paths == ("/etc/hosts",)
        (fs.path / "etc/motd").write_text("hi\n")
    assert all_paths(upper) == {"etc", "etc/motd"}
    assert all_paths(lower) == {"bin"}


@pytest.mark.integration
def test_lowers_are_bottom_first(run_in: Runner, tmp_path: Path) -> None:
    """The last lower dir is the top layer, as in an image manifest's ``layers``."""
    first, second = tmp_path / "l1", tmp_path / "l2"
    for layer, text in ((first, "first"), (second, "second")):
        (layer / "etc").mkdir(parents=True)
        (layer / "etc/which").write_text(text)
    assert run_in(["cat", "/etc/which"], lowers=[first, second]).stdout == "second"


@pytest.mark.integration
def test_symlinked_etc_file_resolves_inside_the_rootfs(run_in: Runner, tmp_path: Path) -> None:
    """An image's /etc/resolv.conf symlink to an absolute path is followed inside the rootfs."""
    layer = tmp_path / "l1"
    (layer / "etc").mkdir(parents=True)
    (layer / "etc/resolv.conf").symlink_to("/run/lamina-test-missing/resolv.conf")
    ran = run_in(["cat", "/etc/resolv.conf"], lowers=[layer])
    assert ran.exit_code == 0
    assert ran.stdout == Path("/etc/resolv.conf").read_text()
    assert not Path("/run/lamina-test-missing").exists()
    assert all_paths(ran.upper) == set()


@pytest.mark.integration  # mounts an overlay
def test_scratch_rootfs_without_lowers(tmp_path: Path) -> None:
    """FROM scratch: no image layers; the init layer alone is the lower dir."""
    upper, work = tmp_path / "up", tmp_path / "work"
    points = [MountPoint("/proc", True), MountPoint("/etc/hosts", False)]
    with mounted([], upper, work, mountpoints=points) as fs:
        assert fs.init_paths == ("/proc", "/etc/hosts")
        assert (fs.path / "proc").is_dir() and (fs.path / "etc/hosts").is_file()
        (fs.path / "hello").write_text("hi")
    assert all_paths(upper) == {"hello"}


@pytest.mark.integration
def test_teardown_unmounts_and_removes_scratch(busybox_lower: Path, tmp_path: Path) -> None:
    """After teardown: no mount, no scratch dir; the upper dir stays for the caller."""
    upper, work = tmp_path / "up", tmp_path / "work"
    fs = prepare([busybox_lower], upper, work, mountpoints=[])
    assert mounted_under(work)
    (fs.path / "x").write_text("x")
    teardown(fs)
    assert not mounted_under(tmp_path)
    assert not work.exists()
    assert (upper / "x").read_text() == "x"


@pytest.mark.integration
def test_teardown_happens_when_the_body_fails(busybox_lower: Path, tmp_path: Path) -> None:
    """The context manager unmounts on an exception too."""
    with pytest.raises(RuntimeError), mounted([busybox_lower], tmp_path / "up",
                                              tmp_path / "work", mountpoints=[]):
        raise RuntimeError("step failed")
    assert not mounted_under(tmp_path)


@pytest.mark.integration
def test_scratch_dir_must_be_empty(busybox_lower: Path, tmp_path: Path) -> None:
    """A non-empty scratch dir is refused before anything is mounted."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "leftover").write_text("")
    with pytest.raises(MountError, match="is not empty"):
        prepare([busybox_lower], tmp_path / "up", work, mountpoints=[])
    assert (work / "leftover").exists()


def test_failed_mount_leaves_nothing_behind(tmp_path: Path) -> None:
    """A failed mount during prepare leaves no mount and no scratch dir behind."""
    bad = tmp_path / "a:b"
    bad.mkdir()
    with pytest.raises(MountError, match="containing ':'"):
        prepare([bad], tmp_path / "up", tmp_path / "work", mountpoints=[])
    assert not mounted_under(tmp_path)
    assert not (tmp_path / "work").exists()
