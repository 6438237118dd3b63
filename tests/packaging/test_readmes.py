"""Each distribution's README is its long description on the package index, shown away from the
repository: a relative link or an in-page anchor there leads nowhere, and the kernel README's
example is the first code a user runs.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
READMES = [ROOT / "core" / "README.md", *sorted(ROOT.glob("plugins/*/README.md"))]
#: The repository's assumed public address (the pyprojects' Source URLs).
REPOSITORY_URL = "https://github.com/strm-project/strm"
#: Inline links and images ``[text](target "title")``, and reference definitions ``[x]: target``.
LINK = re.compile(r"\]\((?P<inline>[^)\s]+)[^)]*\)|^ {0,3}\[[^\]]+\]:\s*(?P<reference>\S+)", re.M)
FENCE = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def link_targets(readme: Path) -> list[str]:
    text = readme.read_text(encoding="utf-8")
    return [m.group("inline") or m.group("reference") for m in LINK.finditer(text)]


@pytest.mark.parametrize("readme", READMES, ids=lambda p: p.parent.name)
def test_readme_links_are_absolute_and_those_into_the_repository_exist(readme: Path) -> None:
    targets = link_targets(readme)
    assert [t for t in targets if not t.startswith("https://")] == []
    for target in targets:
        if target.startswith(f"{REPOSITORY_URL}/tree/main/") or target.startswith(
            f"{REPOSITORY_URL}/blob/main/"
        ):
            path = target.split("/main/", 1)[1].split("#")[0]
            assert (ROOT / path).exists(), f"{target} points to a missing {path}"


def test_the_kernel_readme_example_runs_as_a_worker(tmp_path: Path) -> None:
    (source,) = FENCE.findall((ROOT / "core" / "README.md").read_text(encoding="utf-8"))
    (tmp_path / "greetings.py").write_text(source)
    env = {k: v for k, v in os.environ.items() if k not in ("BROKER_URL", "STRM_PLUGINS")}
    process = subprocess.Popen(
        [sys.executable, "-m", "strm", "-A", "greetings", "worker", "--without-web"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def read_stderr() -> None:
        assert process.stderr is not None
        for text in process.stderr:
            lines.put(text)
        lines.put(None)

    threading.Thread(target=read_stderr, daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + 15.0
    try:
        while time.monotonic() < deadline and not any("HELLO" in text for text in seen):
            try:
                text = lines.get(timeout=0.1)
            except queue.Empty:
                continue
            if text is None:
                break  # the worker exited by itself
            seen.append(text)
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    output = "".join(seen)
    assert "strm.stdout: HELLO" in output, output
    assert code == 0, output
