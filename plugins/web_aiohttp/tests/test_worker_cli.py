"""``strm worker`` and its web options, in subprocesses serving on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from worker_process import WorkerProcess

from conftest import free_port

pytestmark = pytest.mark.slow


def get_json(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_the_worker_serves_on_its_web_options(tmp_path: Path) -> None:
    port = free_port()
    worker = WorkerProcess(
        tmp_path, "-l", "info", "worker",
        "--web-port", str(port), "--web-bind", "127.0.0.1", "--web-host", "node-7.example",
    )  # fmt: skip
    try:
        worker.wait_for("ready in")
        assert f"web server on http://127.0.0.1:{port}" in worker.output
        assert get_json(f"http://127.0.0.1:{port}/health") == (
            200,
            {"status": "ok", "state": "running"},
        )
        status, body = get_json(f"http://127.0.0.1:{port}/whoami")
        assert status == 200
        assert body["canonical_url"] == f"http://node-7.example:{port}"
    finally:
        assert worker.stop() == 0, worker.output


def test_a_port_in_use_exits_2_with_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        worker = WorkerProcess(tmp_path, "worker", "-p", str(port), "-b", "127.0.0.1")
        try:
            assert worker.wait_exit() == 2, worker.output
        finally:
            worker.kill()
    errors = [line for line in worker.output.splitlines() if line.startswith("Error:")]
    assert errors == [
        f"Error: the web server cannot listen on http://127.0.0.1:{port}: the address is in "
        "use (another worker? choose another with --web-port)"
    ]
    assert "Traceback" not in worker.output


def test_with_web_and_without_web_and_a_unix_socket(tmp_path: Path) -> None:
    port = free_port()
    off = WorkerProcess(tmp_path, "worker", "--without-web", "-p", str(port), "-b", "127.0.0.1")
    try:
        off.wait_for("ready in")
        with pytest.raises(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5)
    finally:
        assert off.stop() == 0, off.output
    sock = tmp_path / "w.sock"
    on = WorkerProcess(
        tmp_path, "-l", "info", "worker", "--with-web", "--web-transport", f"unix://{sock}",
        env={"WW_WEB": "0"},  # the app turns it off, the command line back on
    )  # fmt: skip
    try:
        on.wait_for("ready in")
        assert f"web server on unix://{sock}" in on.output
        with socket.socket(socket.AF_UNIX) as client:
            client.settimeout(10)
            client.connect(str(sock))
            client.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            answer = b""
            for _ in range(100):
                chunk = client.recv(65536)
                if not chunk:
                    break
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 200")
    finally:
        assert on.stop() == 0, on.output


def test_without_the_plugin_a_default_worker_warns_once_and_an_explicit_one_stops(
    tmp_path: Path,
) -> None:
    quiet = WorkerProcess(tmp_path, "--plugin", "no:web_aiohttp", "worker")
    try:
        quiet.wait_for("ready in")
    finally:
        assert quiet.stop() == 0, quiet.output
    warnings = [line for line in quiet.output.splitlines() if "web server is off" in line]
    assert len(warnings) == 1, quiet.output
    assert "WARNING" in warnings[0] and "pip install 'strm[web]'" in warnings[0]
    loud = WorkerProcess(tmp_path, "--plugin", "no:web_aiohttp", "worker", "--with-web")
    try:
        assert loud.wait_exit() == 2, loud.output
    finally:
        loud.kill()
    errors = [line for line in loud.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "the web server cannot start (web_enabled given)" in errors[0]
    assert "pip install 'strm[web]'" in errors[0]
