"""Debian's Chromium, headless, driven through its own chromedriver with a small W3C WebDriver
client (a few JSON requests over loopback HTTP).

Debian packages ``chromium`` and ``chromium-driver`` from one build, so the driver always
matches the browser; nothing is downloaded. Where they are missing the tests that need them
skip, naming the packages, unless ``STRM_TESTS_NO_SKIP=1`` (CI) makes that a failure, as for
Kafka and Redis.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
NO_SKIP_ENV = "STRM_TESTS_NO_SKIP"
INSTALL_HINT = "apt-get install chromium chromium-driver"
#: The browser's flags: headless, no sandbox (root in CI), and nothing that reaches the network
#: on its own (updates, sync, field trials).
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
)
#: Bounds (seconds) of starting the driver, one WebDriver command, and a new session.
START_TIMEOUT = 30.0
COMMAND_TIMEOUT = 60.0


def require_chromium() -> tuple[str, str]:
    """The browser and driver paths, or skip (fail under STRM_TESTS_NO_SKIP=1)."""
    driver = shutil.which("chromedriver")
    missing = [name for name, path in (("chromium", CHROMIUM), ("chromedriver", driver))
               if not (path and os.access(path, os.X_OK))]  # fmt: skip
    if missing:
        message = f"{' and '.join(missing)} not found; {INSTALL_HINT} (Debian)"
        if os.environ.get(NO_SKIP_ENV) == "1":
            pytest.fail(f"{message}; {NO_SKIP_ENV}=1 forbids skipping")
        pytest.skip(message)
    assert driver is not None
    return CHROMIUM, driver


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class WebDriverError(AssertionError):
    pass


class Browser:
    """One chromedriver process and one headless Chromium session."""

    def __init__(self, workdir: Path) -> None:
        chromium, driver = require_chromium()
        self.port = _free_port()
        self.log = workdir / "chromedriver.log"
        self.profile = workdir / "chromium-profile"
        self.profile.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [driver, f"--port={self.port}", "--allowed-ips=127.0.0.1", f"--log-path={self.log}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.base = f"http://127.0.0.1:{self.port}"
        self.session: str | None = None
        try:
            self._wait_ready()
            capabilities = {
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": chromium,
                    "args": [*FLAGS, f"--user-data-dir={self.profile}"],
                },
            }
            wanted = {"capabilities": {"alwaysMatch": capabilities}}
            answer = self._command("POST", "/session", wanted)
            self.session = answer["sessionId"]
        except BaseException:
            self.close()
            raise

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.process.poll() is not None:
                raise WebDriverError(f"chromedriver exited ({self.process.returncode})")
            try:
                if self._command("GET", "/status").get("ready"):
                    return
            except (OSError, WebDriverError):
                pass
            if time.monotonic() > deadline:
                raise WebDriverError(f"chromedriver not ready within {START_TIMEOUT:g} s")
            time.sleep(0.1)

    def _command(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.base + path, data=data, method=method,
            headers={"Content-Type": "application/json; charset=utf-8"},
        )  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=COMMAND_TIMEOUT) as response:
                answer = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")
            raise WebDriverError(f"{method} {path}: HTTP {exc.code}: {detail}") from None
        return answer.get("value")

    def _session(self, method: str, path: str, body: Any = None) -> Any:
        assert self.session is not None
        return self._command(method, f"/session/{self.session}{path}", body)

    def get(self, url: str) -> None:
        self._session("POST", "/url", {"url": url})

    def run(self, script: str, *args: Any) -> Any:
        """The value of ``script`` (a function body) run in the page."""
        return self._session("POST", "/execute/sync", {"script": script, "args": list(args)})

    def text(self, selector: str) -> str | None:
        return self.run(  # type: ignore[no-any-return]
            "const e = document.querySelector(arguments[0]); return e ? e.textContent : null;",
            selector,
        )

    def wait_for(self, script: str, timeout: float, what: str, *args: Any) -> Any:
        """Poll ``script`` every 0.1 s until it returns something truthy; fail after
        ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.run(script, *args)
            if value:
                return value
            if time.monotonic() > deadline:
                raise WebDriverError(f"{what}: not within {timeout:g} s (last: {value!r})")
            time.sleep(0.1)

    def screenshot(self, path: Path) -> Path:
        png = base64.b64decode(self._session("GET", "/screenshot"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(png)
        return path

    def close(self) -> None:
        try:
            if self.session is not None:
                self._session("DELETE", "")
        except (OSError, WebDriverError):
            pass
        finally:
            self.session = None
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
