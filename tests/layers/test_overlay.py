"""Kernel OverlayFS mounts of layer dirs (issue 2 "lamina mount ... joins the layers with the
kernel's OverlayFS"; kernel Documentation/filesystems/overlayfs.rst for lowerdir order and
whiteouts), and the upper dir written back as an OCI layer (image-spec layer.md)."""

from __future__ import annotations

import errno
import io
import os
import stat
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from lamina.layers.apply import apply_layer
from lamina.layers.overlay import MountError, is_mounted, mount, umount
from lamina.layers.write import write_layer
from tests.layers import tarbuild as tb
from tests.tools import require_tool, run
from tests.unprivileged import Unprivileged

pytestmark = [pytest.mark.integration, pytest.mark.root]


@pytest.fixture
def mounts() -> Iterator[list[Path]]:
    """Mount points to unmount at the end, whatever happened."""
    points: list[Path] = []
    yield points
    for point in reversed(points):
        if is_mounted(point):
            run(["umount", point], check=False)


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_two_lowers_and_upper_give_oci_whiteouts(tmp_path: Path, mounts: list[Path]) -> None:
    """The top layer wins; deleting a lower file leaves a whiteout device in the upper dir,
    replacing a lower dir makes it opaque, renaming one copies it; write_layer turns all
    of it into OCI whiteouts and entries."""
    require_tool("mount")
    bottom, top = tmp_path / "l0", tmp_path / "l1"
    write(bottom / "a/f1", "bottom")
    write(bottom / "shared", "bottom")
    write(bottom / "d/x", "bottom")
    write(bottom / "m/moved", "bottom")
    write(top / "a/f2", "top")
    write(top / "shared", "top")
    write(top / "d/y", "top")
    merged, upper, work = tmp_path / "merged", tmp_path / "upper", tmp_path / "work"
    mount([bottom, top], merged, upper=upper, work=work)
    mounts.append(merged)
    assert is_mounted(merged)
    assert (merged / "shared").read_text() == "top"
    assert sorted(os.listdir(merged / "a")) == ["f1", "f2"]

    (merged / "a/f1").unlink()
    run(["rm", "-rf", merged / "d"])
    write(merged / "d/z", "new")
    write(merged / "n", "new")
    # Renaming a lower dir: with redirect_dir off the kernel says EXDEV and mv copies.
    run(["mv", merged / "m", merged / "m2"])
    expected = tb.snapshot(merged)
    umount(merged)
    assert not is_mounted(merged)

    blob = io.BytesIO()
    write_layer(upper, blob, "gzip", overlay_upper=True)
    blob.seek(0)
    with tarfile.open(fileobj=blob) as tar:
        names = sorted(m.name for m in tar)
    assert "a/.wh.f1" in names
    assert "d/.wh..wh..opq" in names
    assert {"d/z", "n", ".wh.m", "m2/moved"} <= set(names)

    # Applying the layers in order gives what the mount showed.
    rootfs = tmp_path / "rootfs"
    for layer_dir in (bottom, top):
        layer = io.BytesIO()
        write_layer(layer_dir, layer, "none")
        layer.seek(0)
        apply_layer(layer, rootfs)
    blob.seek(0)
    apply_layer(blob, rootfs)
    assert tb.snapshot(rootfs) == expected

    # Extracted alone with OverlayFS whiteouts, the upper layer stacks the same way.
    alone = tmp_path / "alone"
    blob.seek(0)
    apply_layer(blob, alone, overlay_whiteouts=True)
    stacked = tmp_path / "stacked"
    mount([bottom, top, alone], stacked)
    mounts.append(stacked)
    assert tb.snapshot(stacked) == expected
    umount(stacked)


def test_single_lower_is_read_only_and_hides_whiteouts(tmp_path: Path,
                                                      mounts: list[Path]) -> None:
    """One extracted layer mounted alone: read-only, its 0/0 whiteout markers hidden."""
    lower = tmp_path / "lower"
    write(lower / "f", "data")
    os.mknod(lower / "gone", 0o000 | stat.S_IFCHR, os.makedev(0, 0))
    target = tmp_path / "mnt"
    mount([lower], target)
    mounts.append(target)
    assert (target / "f").read_text() == "data"
    assert os.listdir(target) == ["f"]
    with pytest.raises(OSError) as failure:
        (target / "new").write_text("x")
    assert failure.value.errno == errno.EROFS
    umount(target)


def test_many_long_lower_paths_exceed_one_page(tmp_path: Path, mounts: list[Path]) -> None:
    """mount(2) takes one page of options: 40 long lower paths still mount, top first."""
    lowers = []
    for i in range(40):
        lower = tmp_path / ("layer-" + "x" * 100 + f"-{i:03d}")
        write(lower / f"only{i}", str(i))
        write(lower / "which", str(i))
        lowers.append(lower)
    assert len(":".join(map(str, lowers))) > 4096
    target = tmp_path / "mnt"
    mount(lowers, target)
    mounts.append(target)
    assert (target / "which").read_text() == "39"
    assert (target / "only0").read_text() == "0"
    umount(target)


def test_not_root_points_to_unpack(tmp_path: Path, unprivileged: Unprivileged) -> None:
    os.chmod(tmp_path, 0o755)
    code = ("from pathlib import Path\n"
            "from lamina.layers.overlay import mount\n"
            f"mount([Path('{tmp_path}')], Path('{tmp_path}/mnt'))\n")
    proc = run(unprivileged.argv("-c", code), check=False, env=unprivileged.env)
    assert proc.returncode != 0
    stderr = proc.stderr.decode()
    assert "RootRequired" in stderr and "needs root" in stderr
    assert "lamina unpack" in stderr


def test_umount_of_a_plain_dir_is_named(tmp_path: Path) -> None:
    with pytest.raises(MountError, match="is not a mount point"):
        umount(tmp_path)
