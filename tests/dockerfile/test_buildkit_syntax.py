"""Syntax BuildKit accepts and the front end must too (Dockerfile reference: "RUN --mount",
"Here-Documents", "COPY", "ADD", "Parser directives", "CMD"; BuildKit's
frontend/dockerfile/instructions/commands_runmount.go for the mount fields)."""

from __future__ import annotations

import pytest

from lamina.dockerfile import parse
from lamina.dockerfile.flags import parse_mount

ACCEPTED = [
    # A bind mount without target lands on the working directory.
    "FROM a AS s\nFROM b\nWORKDIR /w\nRUN --mount=from=s,src=/x,rw ls\n",
    "FROM a\nRUN --mount=type=cache,id=c ls\n",
    "FROM a\nADD <<-EOT /x\n\thello\n\tEOT\n",
    "FROM a\nCOPY <<EOF /x\nhi\nEOF\n",
    "FROM a\nCOPY <<A <<B /dir/\na\nA\nb\nB\n",
    "FROM a\nRUN <<'EOF' bash\necho $X\nEOF\n",
    "FROM a\nRUN cat 3<<EOF\nx\nEOF\n",
    "FROM a\nRUN python3 <<EOF\nprint(1)\nEOF\n",
    "FROM a\nRUN cat <<EOF > /x\nhi\nEOF\n",
    "FROM a\nRUN <<-EOT\n\techo\n\tEOT\n",
    "FROM a\nCOPY --chmod=755 --link a /b\nADD --chmod=644 --link a /b\n",
    "FROM a\nCOPY --parents --exclude=*.md --exclude=x ./a/b /c/\n",
    "FROM a\nADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1d"
    "c68d https://x/y /z\n",
    "FROM a\nADD --keep-git-dir=true https://github.com/moby/buildkit.git#v0.10.1 /bk\n",
    "FROM a\nADD --unpack=true https://x/y.tar.gz /z\n",
    "# syntax=docker/dockerfile:1\n# escape=`\n# check=skip=JSONArgsRecommended;error=true\n"
    "FROM a\nRUN echo `\n  hi\n",
    "FROM a\nCMD []\nENTRYPOINT []\n",
    "FROM a\nRUN --mount=type=secret,id=tok,env=TOK --mount=type=ssh,required ssh -T x\n",
    "FROM a\nRUN --mount=type=cache,target=/c,sharing=locked,uid=1000,mode=0755 ls\n",
    "FROM a\nRUN --mount=type=tmpfs,target=/t,size=64m ls\n",
    "FROM a\nRUN --network=none --security=insecure ls\n",
    "FROM --platform=$BUILDPLATFORM a AS b\n",
    "FROM a\nRUN --mount=type=bind,target=/t,from=$STAGE,ro=$RO ls\n",
]


@pytest.mark.parametrize("text", ACCEPTED)
def test_buildkit_syntax_is_accepted(text: str) -> None:
    assert parse(text).stages


def test_bind_mount_without_target_is_typed_for_the_builder() -> None:
    dockerfile = parse("FROM a AS s\nFROM b\nWORKDIR /w\nRUN --mount=from=s,src=/x,rw ls\n")
    (mount,) = dockerfile.stages[1].instructions[1].mounts
    assert (mount.type, mount.target, mount.from_, mount.source) == ("bind", None, "s", "/x")
    assert mount.readonly is False
    assert mount.target_in("/w") == "/w"
    assert mount.target_in("/") == "/"


def test_mount_fields_and_defaults() -> None:
    cache = parse_mount("type=cache,target=cache,sharing=LOCKED,uid=1000,mode=0755,id=pip")
    assert (cache.readonly, cache.sharing, cache.uid, cache.mode, cache.id) == (
        False, "locked", 1000, 0o755, "pip")
    assert cache.target_in("/app") == "/app/cache"
    tmpfs = parse_mount("type=tmpfs,dst=/t,size=64m")
    assert (tmpfs.target, tmpfs.size, tmpfs.readonly) == ("/t", 64 << 20, False)
    secret = parse_mount("type=secret,id=tok,env=TOK,required")
    assert (secret.env, secret.required, secret.readonly) == ("TOK", True, True)
    bind = parse_mount("target=/src,readonly=false")
    assert (bind.type, bind.readonly) == ("bind", False)
