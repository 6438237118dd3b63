"""``strm completion``: click's completion scripts for bash, zsh and fish, which ask ``strm``
itself, so that the app's own commands complete once ``-A`` is on the line."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

import pytest

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_the_script_of_each_shell(strm: Run, shell: str) -> None:
    script = strm("completion", shell)
    assert script.returncode == 0, script.stderr
    assert f"_STRM_COMPLETE={shell}_complete" in script.stdout.replace('"', "")


def test_the_shell_comes_from_SHELL(strm: Run) -> None:
    assert "bash_complete" in strm("completion", env={"SHELL": "/bin/bash"}).stdout
    unknown = strm("completion", env={"SHELL": "/bin/tcsh"})
    assert unknown.returncode == 2
    assert "cannot tell the shell from SHELL='/bin/tcsh'" in unknown.stderr


def complete(strm: Run, line: str, shell: str = "bash") -> list[str]:
    words = line.split()
    cword = len(words) - (0 if line.endswith(" ") else 1)
    done = strm(
        env={"COMP_WORDS": line, "COMP_CWORD": str(cword), "_STRM_COMPLETE": f"{shell}_complete"}
    )
    assert done.returncode == 0, done.stderr
    return [line for line in done.stdout.splitlines() if line]


def test_commands_complete(strm: Run) -> None:
    assert complete(strm, "strm mod") == ["plain,model", "plain,models"]
    assert complete(strm, "strm comp") == ["plain,completion"]


def test_the_apps_own_commands_complete_with_A(strm: Run) -> None:
    assert complete(strm, "strm sh") == []
    assert complete(strm, "strm -A shop sh") == ["plain,shout"]
    assert "plain,--times" in complete(strm, "strm -A shop shout --")
