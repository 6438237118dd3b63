"""A ``strm worker`` in a subprocess for the command-line tests: its output in a file, a bounded
wait for its ready line and for its exit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

APP = """\
import os
import strm

settings = {"web_enabled": False} if os.environ.get("WW_WEB") == "0" else {}
app = strm.App("webworker", broker=os.environ.get("WW_BROKER", "memory://"), **settings)


@app.page("/whoami")
async def whoami(self, request):
    return self.json({"canonical_url": self.app.conf.canonical_url, "pid": os.getpid()})
"""


class WorkerProcess:
    """``python -m strm -A webworker ARGS`` in ``directory``."""

    def __init__(self, directory: Path, *args: str, env: dict[str, str] | None = None) -> None:
        (directory / "webworker.py").write_text(APP)
        self.log = directory / f"worker-{len(list(directory.glob('worker-*.txt')))}.txt"
        environ = {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(directory),
            "PYTHONUTF8": "1",
            **(env or {}),
        }
        with self.log.open("w") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "strm", "-A", "webworker", *args],
                cwd=directory,
                env=environ,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def output(self) -> str:
        return self.log.read_text()

    def wait_for(self, text: str, count: int = 1, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while self.output.count(text) < count:
            if self.proc.poll() is not None:
                raise AssertionError(f"the worker exited ({self.proc.returncode}):\n{self.output}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {text!r} within {timeout:g} s:\n{self.output}")
            time.sleep(0.05)

    def wait_exit(self, timeout: float = 60.0) -> int:
        return self.proc.wait(timeout)

    def stop(self, timeout: float = 60.0) -> int:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
        try:
            return self.proc.wait(timeout)
        finally:
            self.kill()

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(30)
