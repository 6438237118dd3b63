"""``strm worker --processes 2`` on Kafka: each child serves on its own port, web_port + i."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest
from worker_process import WorkerProcess

from conftest import free_port

pytestmark = [pytest.mark.slow, pytest.mark.kafka]


def _free_pair() -> int:
    """A port p with p + 1 free too (bounded tries)."""
    import socket

    for _ in range(50):
        port = free_port()
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise AssertionError("no two consecutive free ports found in 50 tries")


def test_each_process_serves_on_web_port_plus_its_index(
    tmp_path: Path, kafka_bootstrap: str
) -> None:
    port = _free_pair()
    worker = WorkerProcess(
        tmp_path, "-l", "info", "--datadir", str(tmp_path / "data"),
        "worker", "--processes", "2", "--web-port", str(port), "--web-bind", "127.0.0.1",
        env={"WW_BROKER": f"kafka://{kafka_bootstrap}"},
    )  # fmt: skip
    try:
        worker.wait_for("ready in", count=2, timeout=120)
        seen = {}
        for index in (0, 1):
            url = f"http://127.0.0.1:{port + index}"
            with urllib.request.urlopen(url + "/whoami", timeout=10) as resp:
                body = json.loads(resp.read())
            assert body["canonical_url"].endswith(f":{port + index}")
            seen[index] = body["pid"]
            with urllib.request.urlopen(url + "/health", timeout=10) as resp:
                assert resp.status == 200
        assert seen[0] != seen[1]
    finally:
        assert worker.stop(timeout=120) == 0, worker.output
