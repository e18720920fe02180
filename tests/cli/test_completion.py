"""Shell completion (click's protocol): commands, options, and image names from the store."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lamina.store.store import Store
from tests.store.builders import add_image
from tests.tools import lamina, require_tool


def _complete(home: Path, words: str) -> list[str]:
    """What bash completion offers for the last (partial) word of ``words``."""
    env = {**os.environ, "LAMINA_HOME": str(home), "COMP_WORDS": words,
           "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1)),
           "_LAMINA_COMPLETE": "bash_complete"}
    out = subprocess.run([sys.executable, "-m", "lamina.cli"], env=env, capture_output=True,
                         text=True, check=True).stdout
    return [line.split(",", 1)[1] for line in out.splitlines()]


def test_images_complete_from_the_store(lamina_home: Path) -> None:
    image = add_image(Store(lamina_home), [{"a": b"1"}], tags=["team/web:1", "team/db:2"])
    assert _complete(lamina_home, "lamina inspect team/w") == ["team/web:1"]
    assert _complete(lamina_home, "lamina run te") == ["team/db:2", "team/web:1"]
    assert _complete(lamina_home, f"lamina history {image.id.short[:4]}") == [image.id.short]
    assert _complete(lamina_home, "lamina ins") == ["inspect"]
    assert "--network" in _complete(lamina_home, "lamina run --net")


@pytest.mark.integration
def test_completion_scripts_for_each_shell() -> None:
    bash = lamina("completion", "bash")
    assert bash.exit_code == 0 and "_LAMINA_COMPLETE=bash_complete" in bash.stdout
    check = subprocess.run([require_tool("bash"), "-n"], input=bash.stdout, text=True,
                           capture_output=True)
    assert check.returncode == 0, check.stderr
    assert "compdef" in lamina("completion", "zsh").stdout
    assert "complete --no-files --command lamina" in lamina("completion", "fish").stdout
    assert lamina("completion", "tcsh").exit_code == 2
