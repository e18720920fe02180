"""RUN --mount, --network and --security (Dockerfile reference, "RUN --mount", "RUN --network",
"RUN --security"), checked on real builds and against ``buildah bud --runtime runc``."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.build.buildah import Buildah
from tests.build.twin import CONFIG_FIELDS, lamina_image, store, write_context
from tests.tools import lamina, require_tool
from tests.trees import diff_trees

pytestmark = pytest.mark.integration


def _ok(*args: str | Path) -> str:
    result = lamina("build", *args)
    assert result.exit_code == 0, result.stdout + result.stderr
    return result.stderr  # the progress, BuildKit's plain lines


def test_mounts_match_buildah(busybox_base: str, docker: str, tmp_path: Path) -> None:
    """cache, secret, bind (from a stage and from the context) and tmpfs give the root
    filesystem and config Buildah gives; nothing a mount provides stays in the image."""
    cache_id = uuid.uuid4().hex  # Buildah keeps cache mounts outside its --root
    dockerfile = (
        f"FROM {busybox_base} AS base\n"
        "RUN mkdir /data && echo fromstage > /data/f\n"
        f"FROM {busybox_base}\n"
        "ENV KEEP=1\n"
        f"RUN --mount=type=cache,id={cache_id},target=/var/cache/app "
        "sh -c 'echo run >> /var/cache/app/log && wc -l < /var/cache/app/log > /cache-count'\n"
        "RUN --mount=type=secret,id=tok,required=true "
        "stat -c '%a %u %s' /run/secrets/tok > /secret-stat\n"
        "RUN --mount=type=bind,from=base,source=/data,target=/mnt cp /mnt/f /from-stage\n"
        "RUN --mount=type=bind,source=conf,target=/conf cp -r /conf /conf-copy\n"
        "RUN --mount=type=tmpfs,target=/scratch sh -c 'echo t > /scratch/t && "
        "stat -f -c %T /scratch > /tmpfs-type'\n"
        'CMD ["cat", "/from-stage"]\n'
    )
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": dockerfile, "conf/a.ini": "a=1\n",
                                           "conf/sub/b.ini": "b=2\n"})
    secret = tmp_path / "secret"
    secret.write_bytes(b"0123456789")
    _ok("-t", "mounts:1", "--secret", f"id=tok,src={secret}", ctx)
    ours = lamina_image("mounts:1", tmp_path / "ours")
    peer = Buildah(tmp_path / "buildah", (busybox_base,))
    try:
        peer.build(ctx, "mounts:1", "--secret", f"id=tok,src={secret}")
        theirs = peer.tree("mounts:1")
        config = peer.config("mounts:1")
    finally:
        peer.close()
    root = tmp_path / "ours"
    assert (root / "cache-count").read_text() == "1\n"
    assert (root / "secret-stat").read_text() == "400 0 10\n"
    assert (root / "from-stage").read_text() == "fromstage\n"
    assert (root / "conf-copy" / "sub" / "b.ini").read_text() == "b=2\n"
    assert (root / "tmpfs-type").read_text() == "tmpfs\n"
    for gone in ("var/cache/app", "run", "mnt", "conf", "scratch"):
        assert gone not in ours.tree, f"mount point {gone} left in the image"
    # Buildah leaves empty mount points behind; everything else must be equal.
    mount_stubs = {"var/cache", "var/cache/app", "mnt", "conf", "scratch"}
    theirs = {k: v for k, v in theirs.items() if k not in mount_stubs}
    assert diff_trees(ours.tree, theirs) == []
    ours_config = ours.config.get("config") or {}
    for name in CONFIG_FIELDS:
        assert (ours_config.get(name) or None) == (config.get(name) or None), name


def test_cache_mount_persists_is_shared_and_pruned(busybox_base: str, tmp_path: Path) -> None:
    """The cache outlives builds, survives --no-cache, is shared by id across Dockerfiles,
    and `lamina builder du|prune` list and clear it."""
    run = "RUN --mount=type=cache,id=shared-dl,target=/dl sh -c 'echo x >> /dl/n; wc -l < /dl/n > /seen'\n"
    one = write_context(tmp_path / "one", {"Dockerfile": f"FROM {busybox_base}\n{run}"})
    two = write_context(tmp_path / "two", {"Dockerfile": f"FROM {busybox_base}\nENV B=2\n{run}"})
    _ok("-t", "c:1", one)
    _ok("--no-cache", "-t", "c:2", one)
    _ok("-t", "c:3", two)
    seen = [lamina_image(t, tmp_path / t.replace(":", "-")) for t in ("c:1", "c:2", "c:3")]
    assert [(tmp_path / f"c-{n}" / "seen").read_text() for n in (1, 2, 3)] == ["1\n", "2\n", "3\n"]
    assert all("dl" not in s.tree for s in seen)
    du = lamina("builder", "du")
    assert du.exit_code == 0 and "cached mount shared-dl" in du.stdout, du.stdout
    kept = lamina("builder", "prune", "--filter", "type=exec.cachemount", "--keep-storage", "1g")
    assert kept.exit_code == 0 and "cached mount" in lamina("builder", "du").stdout
    pruned = lamina("builder", "prune", "--filter", "type=exec.cachemount")
    assert pruned.exit_code == 0, pruned.stderr
    assert "shared-dl" not in lamina("builder", "du").stdout
    _ok("--no-cache", "-t", "c:4", one)
    lamina_image("c:4", tmp_path / "c-4")
    assert (tmp_path / "c-4" / "seen").read_text() == "1\n"
    bad = lamina("builder", "prune", "--filter", "type=regular")
    assert bad.exit_code == 1 and "exec.cachemount" in bad.stderr


def test_locked_cache_serialises_builds(busybox_base: str, tmp_path: Path) -> None:
    """sharing=locked: a second build waits for the first to release the cache."""
    body = ("RUN --mount=type=cache,id=lk,sharing=locked,target=/c "
            "sh -c 'mkdir /c/busy && sleep 2 && rmdir /c/busy'\n")
    procs = []
    for n in range(2):
        ctx = write_context(tmp_path / f"l{n}",
                            {"Dockerfile": f"FROM {busybox_base}\nENV N={n}\n{body}"})
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "lamina.cli", "build", "-t", f"l:{n}",
             str(ctx)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}))
    outputs = [p.communicate(timeout=300)[0].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs


def test_secret_is_in_no_blob_history_or_cache(busybox_base: str, tmp_path: Path,
                                              lamina_home: Path) -> None:
    """A secret reaches its RUN only: no layer, config, history, cache file or saved archive
    holds its bytes, and a changed secret does not change the cache key."""
    value = f"tok-{uuid.uuid4().hex}"
    dockerfile = (
        f"FROM {busybox_base}\n"
        "ARG MODE=0440\n"
        "RUN --mount=type=secret,id=api,mode=0440,uid=65534 "
        "sh -c 'wc -c < /run/secrets/api > /len && stat -c %a-%u /run/secrets/api > /perm'\n"
        "RUN --mount=type=secret,id=api,target=/etc/api.key,required=true "
        "sh -c 'test -s /etc/api.key && echo present > /present'\n"
    )
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": dockerfile})
    src = tmp_path / "api.txt"
    src.write_text(value)
    _ok("-t", "sec:1", "--secret", f"id=api,src={src}", ctx)
    lamina_image("sec:1", tmp_path / "root")
    assert (tmp_path / "root" / "perm").read_text() == "440-65534\n"
    assert (tmp_path / "root" / "present").read_text() == "present\n"
    assert not (tmp_path / "root" / "etc" / "api.key").exists()
    archive = tmp_path / "saved.tar"
    assert lamina("save", "-o", archive, "sec:1").exit_code == 0
    needle = value.encode()
    for path in [*lamina_home.rglob("*"), archive]:
        if path.is_file() and not path.is_symlink():
            assert needle not in path.read_bytes(), f"secret found in {path}"
    os.environ["API_TOKEN"] = "another-value"
    try:
        again = _ok("-t", "sec:2", "--secret", "id=api,env=API_TOKEN", ctx)
    finally:
        del os.environ["API_TOKEN"]
    assert len(re.findall(r"^#\d+ CACHED$", again, re.M)) == 3, again


@pytest.fixture
def ssh_agent(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A private ssh-agent holding one new key: (socket, the key's fingerprint line)."""
    keygen, agent, add = (require_tool(t) for t in ("ssh-keygen", "ssh-agent", "ssh-add"))
    key = tmp_path / "id_ed25519"
    subprocess.run([keygen, "-q", "-t", "ed25519", "-N", "", "-C", "lamina-test", "-f", key],
                   check=True)
    sock = tmp_path / "agent.sock"
    proc = subprocess.Popen([agent, "-D", "-a", sock], stdout=subprocess.DEVNULL)
    try:
        for _ in range(200):
            if sock.exists():
                break
            subprocess.run(["sleep", "0.05"])
        env = {**os.environ, "SSH_AUTH_SOCK": str(sock)}
        subprocess.run([add, "-q", key], env=env, check=True)
        listed = subprocess.run([add, "-l"], env=env, capture_output=True, text=True, check=True)
        yield str(sock), listed.stdout
    finally:
        proc.terminate()
        proc.wait()


def _ssh_add_tools(target: Path) -> None:
    """The host's ssh-add and the libraries the Debian base lacks, for a bind mount."""
    target.mkdir(parents=True)
    ssh_add = require_tool("ssh-add")
    shutil.copy2(ssh_add, target / "ssh-add")
    ldd = subprocess.run(["ldd", ssh_add], capture_output=True, text=True, check=True).stdout
    for line in ldd.splitlines():
        parts = line.split()
        if "=>" in parts and not parts[0].startswith(("libc.so", "linux-vdso")):
            shutil.copy2(parts[parts.index("=>") + 1], target / parts[0])


def test_ssh_agent_reaches_only_its_run(debian_base: str, tmp_path: Path,
                                        ssh_agent: tuple[str, str]) -> None:
    """--ssh default=SOCKET: `ssh-add -l` inside the RUN lists the agent's key; the step
    after it sees no agent, and no socket stays in the image."""
    sock, listed = ssh_agent
    dockerfile = (
        f"FROM {debian_base}\n"
        "RUN --mount=type=bind,source=tools,target=/tools --mount=type=ssh "
        "LD_LIBRARY_PATH=/tools /tools/ssh-add -l > /keys\n"
        "RUN sh -c 'echo \"[$SSH_AUTH_SOCK]\" > /after'\n"
    )
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": dockerfile})
    _ssh_add_tools(ctx / "tools")
    _ok("-t", "ssh:1", "--ssh", f"default={sock}", ctx)
    built = lamina_image("ssh:1", tmp_path / "root")
    assert (tmp_path / "root" / "keys").read_text() == listed
    assert (tmp_path / "root" / "after").read_text() == "[]\n"
    assert not any(p.startswith("run/buildkit") for p in built.tree)


def test_rw_bind_discards_writes(busybox_base: str, tmp_path: Path) -> None:
    dockerfile = (f"FROM {busybox_base} AS base\nRUN echo base > /b\n"
                  f"FROM {busybox_base}\n"
                  "RUN --mount=type=bind,target=/src,rw sh -c 'echo junk > /src/f && cat /src/f > /seen'\n"
                  "RUN --mount=type=bind,from=base,target=/b,rw sh -c 'echo junk > /b/b'\n"
                  "RUN --mount=from=base,target=/b cat /b/b > /base-after\n")
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": dockerfile, "f": "original\n"})
    _ok("-t", "rw:1", ctx)
    lamina_image("rw:1", tmp_path / "root")
    assert (ctx / "f").read_text() == "original\n"
    assert (tmp_path / "root" / "seen").read_text() == "junk\n"
    assert (tmp_path / "root" / "base-after").read_text() == "base\n"


def test_network_and_security(busybox_base: str, tmp_path: Path) -> None:
    """--network=none leaves only lo; host and insecure need their entitlement (--allow)."""
    dockerfile = (f"FROM {busybox_base}\n"
                  "RUN --network=none sh -c 'ls /sys/class/net > /net-none'\n"
                  "RUN --network=host sh -c 'ls /sys/class/net > /net-host'\n"
                  "RUN --security=insecure sh -c 'grep CapEff /proc/self/status > /caps-insecure'\n"
                  "RUN grep CapEff /proc/self/status > /caps-sandbox\n")
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": dockerfile})
    refused = lamina("build", "-t", "net:1", ctx)
    assert refused.exit_code == 1
    assert "line 3: RUN --network=host needs the network.host entitlement" in refused.stderr
    no_insecure = lamina("build", "--allow", "network.host", "-t", "net:1", ctx)
    assert "line 4: RUN --security=insecure needs the security.insecure" in no_insecure.stderr
    before = set(os.listdir("/sys/class/net"))
    _ok("--allow", "network.host", "--allow", "security.insecure", "-t", "net:1", ctx)
    after = set(os.listdir("/sys/class/net"))
    lamina_image("net:1", tmp_path / "root")
    root = tmp_path / "root"
    assert (root / "net-none").read_text() == "lo\n"
    # the host's own interfaces; others' containers add and remove veths meanwhile, so only
    # those present before and after the build must be listed
    listed = set((root / "net-host").read_text().split())
    assert before & after <= listed and listed - {"lo"}, listed
    insecure = int((root / "caps-insecure").read_text().split()[1], 16)
    sandbox = int((root / "caps-sandbox").read_text().split()[1], 16)
    cap_sys_admin = 1 << 21
    assert insecure & cap_sys_admin and not sandbox & cap_sys_admin


@pytest.mark.parametrize(("line", "message"), [
    ("RUN --mount=type=nfs,target=/x true", "--mount type 'nfs' is unknown"),
    ("RUN --mount=type=cache,target=/x,colour=red true", "unknown key 'colour'"),
    ("RUN --mount=type=tmpfs,target=/x,size=lots true", "size=lots: not a size"),
    ("RUN --mount=type=cache,target=/x,sharing=maybe true", "sharing=maybe is unknown"),
    ("RUN --mount=type=secret,id=nope,required=true true",
     "secret 'nope' is required but was not given"),
    ("RUN --mount=type=bind,from=nosuchstage,target=/x true", "from=nosuchstage"),
    ("RUN --network=bridge true", "RUN --network=bridge is unknown"),
])
def test_bad_mounts_are_refused_and_nothing_is_tagged(busybox_base: str, tmp_path: Path,
                                                      line: str, message: str) -> None:
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": f"FROM {busybox_base}\nRUN true\n{line}\n"})
    result = lamina("build", "-t", "bad:1", ctx)
    assert result.exit_code == 1
    assert message in result.stderr
    assert "line 3:" in result.stderr or "Dockerfile:3:" in result.stderr
    assert "bad:1" not in str(store().meta.read().tags)
