"""The documentation's code runs.

* Every ```python block of docs/guide.md that creates ``app = strm.App(...)`` is executed as a
  module of its own, on a fresh ``memory://`` broker given through ``BROKER_URL`` (environment
  variables beat arguments, so whatever broker the code names is replaced). A block with an
  ``async def main()`` is run through it; any other is run as a worker would run it, for a
  moment, and must not crash.
* Every app module of ``examples/`` imports and configures.
* ``examples/wordcount.py`` runs as ``python -m strm -A examples.wordcount worker`` and prints
  its counts.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import types
from pathlib import Path

import pytest
import strm
from strm.builtins.memory_transport import drop_broker, unique_url

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "guide.md"
EXAMPLES = ROOT / "examples"
FENCE = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)

#: How long a block without ``main()`` runs, and the bound on a ``main()``.
RUN_FOR = 0.5
MAIN_TIMEOUT = 10.0


def guide_programs() -> list[tuple[int, str]]:
    """``(line, source)`` of each python block of the guide that creates an app; ``line`` is
    the block's first line in the guide, so tracebacks point into docs/guide.md."""
    text = GUIDE.read_text(encoding="utf-8")
    found = []
    for match in FENCE.finditer(text):
        source = match.group(1)
        if "app = strm.App(" in source:
            found.append((text.count("\n", 0, match.start(1)) + 1, source))
    return found


PROGRAMS = guide_programs()


def test_the_guide_has_programs_to_run() -> None:
    assert len(PROGRAMS) >= 10, "docs/guide.md lost its runnable examples"


async def run_briefly(app: strm.App) -> None:
    async with app.running():
        await asyncio.sleep(RUN_FOR)


@pytest.mark.parametrize(
    ("line", "source"), PROGRAMS, ids=[f"guide.md:{line}" for line, _ in PROGRAMS]
)
def test_guide_program_runs(
    line: int, source: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = unique_url("guide")
    monkeypatch.setenv("BROKER_URL", url)
    # The examples are about streams and tables; their web servers (0.0.0.0:6066 by default)
    # stay off, as tests bind loopback only.
    monkeypatch.setenv("APP_WEB_ENABLED", "false")
    monkeypatch.chdir(tmp_path)
    name = f"strm_guide_example_line_{line}"
    module = types.ModuleType(name)
    module.__file__ = str(GUIDE)
    # Registered, so that `plugins=[__name__]` finds the module as it would find a real one.
    monkeypatch.setitem(sys.modules, name, module)
    code = compile("\n" * (line - 1) + source, str(GUIDE), "exec")
    try:
        exec(code, module.__dict__)
        app = module.__dict__["app"]
        assert isinstance(app, strm.App)
        assert app.conf.broker == [url], "BROKER_URL did not replace the example's broker"
        main = module.__dict__.get("main")
        if inspect.iscoroutinefunction(main):
            asyncio.run(asyncio.wait_for(main(), MAIN_TIMEOUT))
        else:
            asyncio.run(run_briefly(app))
            feeds_a_topic = app.background.jobs and any(
                isinstance(agent.channel, strm.Topic) for agent in app.agents.values()
            )
            if feeds_a_topic:
                assert app.monitor.asdict()["messages_received_total"] > 0
        assert app.crash_error is None, f"the example crashed: {app.crash_error!r}"
    finally:
        drop_broker(url)


# -- examples/ --------------------------------------------------------------------------------

EXAMPLE_MODULES = sorted(p.stem for p in EXAMPLES.glob("*.py") if p.stem != "__init__")


def test_the_examples_are_all_found() -> None:
    assert {"hello", "leader", "rpc", "taskqueue", "timers", "wordcount"} <= set(EXAMPLE_MODULES)


@pytest.mark.parametrize("name", EXAMPLE_MODULES)
def test_example_imports_and_configures(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(ROOT))
    monkeypatch.delenv("BROKER_URL", raising=False)
    module = importlib.import_module(f"examples.{name}")
    app = module.app
    assert isinstance(app, strm.App)
    assert app.configure() is app
    assert app.configured


def test_wordcount_example_counts_its_words_and_stops_on_sigint() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("BROKER_URL", "STRM_PLUGINS")}
    process = subprocess.Popen(
        [sys.executable, "-m", "strm", "-A", "examples.wordcount", "worker", "--without-web"],
        cwd=ROOT,
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

    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    seen: list[str] = []
    deadline = time.monotonic() + 8.0
    try:
        while time.monotonic() < deadline:
            try:
                text = lines.get(timeout=0.1)
            except queue.Empty:
                continue
            if text is None:
                break  # the worker exited by itself
            seen.append(text)
            if "24 words counted" in text:
                break
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    reader.join(timeout=5)
    while not lines.empty():
        text = lines.get()
        if text is not None:
            seen.append(text)
    output = "".join(seen)
    assert "24 words counted" in output, output
    assert code == 0, output
