"""OCI whiteout names (image-spec layer.md, "Whiteouts")."""

import pytest

from lamina.layers import whiteout


def test_whiteout_names_round_trip() -> None:
    """layer.md: a whiteout is the name of the deleted entry prefixed with `.wh.`."""
    assert whiteout.whiteout_name("etc/passwd") == "etc/.wh.passwd"
    assert whiteout.whiteout_name("top") == ".wh.top"
    assert whiteout.whiteout_target("etc/.wh.passwd") == "etc/passwd"
    assert whiteout.whiteout_target(".wh.top") == "top"
    assert whiteout.is_whiteout("a/.wh.b")
    assert not whiteout.is_whiteout("a/b.wh.c")


def test_opaque_marker() -> None:
    """layer.md "Opaque Whiteout": `.wh..wh..opq` hides its directory's lower children."""
    assert whiteout.OPAQUE == ".wh..wh..opq"
    assert whiteout.is_opaque("a/b/.wh..wh..opq")
    assert whiteout.whiteout_target("a/b/.wh..wh..opq") == "a/b"
    assert whiteout.opaque_name("a/b") == "a/b/.wh..wh..opq"
    assert not whiteout.is_meta("a/.wh..wh..opq")
    assert whiteout.is_meta("a/.wh..wh.plnk")


def test_bad_names_are_refused_with_the_rule() -> None:
    with pytest.raises(ValueError, match=r"must start with '\.wh\.'"):
        whiteout.whiteout_target("etc/passwd")
    with pytest.raises(ValueError, match="root"):
        whiteout.whiteout_name("/")
