"""What ``--secret`` and ``--ssh`` hand a build, as ``docker buildx build`` reads them.

``--secret id=X,src=FILE`` / ``id=X,env=VAR`` (``type=file|env`` may be said;
``id=X`` alone takes the environment variable X, else a file named X) and
``--ssh default[=SOCKET|KEY[,KEY...]]`` (no path: ``$SSH_AUTH_SOCK``). Values are
read when the build starts, so a missing file is an error before any step runs.
Secrets stay in memory; RUN steps get them from a tmpfs file (`lamina.build.runmounts`).
Keys are served by a private ``ssh-agent`` that lives as long as the build.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from lamina.errors import LaminaError


class SecretError(LaminaError):
    """A --secret or --ssh value that cannot be used."""


def _fields(text: str, flag: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if not sep or not key:
            raise SecretError(f"{flag} {text!r}: expected KEY=VALUE fields, got {part!r}")
        out[key.strip().lower()] = value.strip()
    return out


def parse_secret(text: str) -> tuple[str, bytes]:
    """(id, content) of one ``--secret`` value."""
    fields = _fields(text, "--secret")
    unknown = set(fields) - {"id", "type", "src", "source", "env"}
    if unknown:
        raise SecretError(f"--secret {text!r}: unexpected key {sorted(unknown)[0]!r} "
                          "(use id=, src= or env=, type=file|env)")
    secret_id = fields.get("id")
    if not secret_id:
        raise SecretError(f"--secret {text!r}: an id=NAME is required")
    kind = fields.get("type")
    src = fields.get("src") or fields.get("source")
    env = fields.get("env")
    if kind not in (None, "file", "env"):
        raise SecretError(f"--secret {text!r}: type must be file or env, not {kind!r}")
    if kind == "env" or (env and kind is None) or (kind is None and not src
                                                    and secret_id in os.environ):
        name = env or src or secret_id
        value = os.environ.get(name)
        if value is None:
            raise SecretError(f"--secret {text!r}: environment variable {name} is not set")
        return secret_id, value.encode()
    path = Path(src or secret_id)
    try:
        return secret_id, path.read_bytes()
    except OSError as exc:
        raise SecretError(f"--secret {text!r}: cannot read {path}: {exc.strerror}") from exc


def parse_ssh(text: str) -> tuple[str, tuple[str, ...]]:
    """(id, paths) of one ``--ssh`` value; no paths means ``$SSH_AUTH_SOCK``."""
    ssh_id, sep, paths = text.partition("=")
    if not ssh_id:
        raise SecretError(f"--ssh {text!r}: expected ID[=SOCKET|KEY[,KEY...]]")
    if not sep:
        sock = os.environ.get("SSH_AUTH_SOCK")
        if not sock:
            raise SecretError(f"--ssh {text}: no socket or key given and SSH_AUTH_SOCK is "
                              "not set (start ssh-agent, or pass --ssh ID=/path/to/key)")
        return ssh_id, (sock,)
    listed = tuple(p for p in paths.split(",") if p)
    for path in listed:
        if not os.path.exists(path):
            raise SecretError(f"--ssh {text}: {path} does not exist")
    return ssh_id, listed


@dataclass
class BuildSecrets:
    """The secrets and SSH agents one build may hand its RUN steps."""

    secrets: dict[str, bytes] = field(default_factory=dict)
    ssh: dict[str, tuple[str, ...]] = field(default_factory=dict)
    _agents: dict[str, tuple[subprocess.Popen[bytes], Path]] = field(default_factory=dict)

    @classmethod
    def parse(cls, secrets: tuple[str, ...] = (), ssh: tuple[str, ...] = ()) -> BuildSecrets:
        return cls(dict(parse_secret(s) for s in secrets), dict(parse_ssh(s) for s in ssh))

    def agent_socket(self, ssh_id: str) -> Path | None:
        """A socket for ``ssh_id``: the given agent's, or a private agent holding the keys."""
        paths = self.ssh.get(ssh_id)
        if paths is None:
            return None
        if len(paths) == 1 and stat.S_ISSOCK(os.stat(paths[0]).st_mode):
            return Path(paths[0])
        if ssh_id not in self._agents:
            self._agents[ssh_id] = _start_agent(ssh_id, paths)
        return self._agents[ssh_id][1]

    def close(self) -> None:
        for proc, sock in self._agents.values():
            proc.terminate()
            proc.wait(timeout=10)
            shutil.rmtree(sock.parent, ignore_errors=True)
        self._agents.clear()


def _start_agent(ssh_id: str, keys: tuple[str, ...]) -> tuple[subprocess.Popen[bytes], Path]:
    agent, add = shutil.which("ssh-agent"), shutil.which("ssh-add")
    if agent is None or add is None:
        raise SecretError(f"--ssh {ssh_id}: keys need ssh-agent and ssh-add (openssh-client)")
    sock = Path(tempfile.mkdtemp(prefix="lamina-ssh-")) / "agent.sock"
    proc = subprocess.Popen([agent, "-D", "-a", str(sock)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not sock.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise SecretError(f"--ssh {ssh_id}: ssh-agent did not start")
        time.sleep(0.02)
    added = subprocess.run([add, *keys], env={**os.environ, "SSH_AUTH_SOCK": str(sock)},
                           capture_output=True, stdin=subprocess.DEVNULL)
    if added.returncode != 0:
        proc.kill()
        proc.wait()
        raise SecretError(f"--ssh {ssh_id}: ssh-add could not load "
                          f"{', '.join(keys)}: {added.stderr.decode(errors='replace').strip()}")
    return proc, sock
