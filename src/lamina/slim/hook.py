"""The createRuntime hook slim's strace tracer installs: hand over the pid, wait to be traced.

runc runs it once the container's first process exists but before that
process runs the image's command; the container state arrives on stdin
(runtime-spec config.md, "POSIX-platform Hooks"). It writes the pid to
``DIR/pid`` and waits until ``DIR/go`` exists, which the tracer creates once
strace has attached, so the command's first exec is already traced.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

WAIT_SECONDS = 30.0


def main(argv: list[str]) -> int:
    directory = Path(argv[1])
    state = json.load(sys.stdin)
    (directory / "pid.tmp").write_text(str(int(state["pid"])))
    (directory / "pid.tmp").rename(directory / "pid")
    deadline = time.monotonic() + WAIT_SECONDS
    while not (directory / "go").exists():
        if time.monotonic() > deadline:
            print("lamina slim: the tracer did not attach in time", file=sys.stderr)
            return 1
        time.sleep(0.01)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
