"""``strm send`` and ``strm reset`` against the real Kafka broker of the test session.

``send`` is read back with a plain Kafka consumer. ``reset`` runs between workers of an app that
keeps a table in RocksDB: the worker after it rebuilds the table from the whole changelog, and
resumes its source after the records the table already holds, so nothing is counted twice.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer

pytestmark = pytest.mark.slow

TIMEOUT = 120.0

APP = """
import json
import os
from pathlib import Path

import strm

app = strm.App(
    os.environ["APP_ID"],
    store="rocksdb://",
    topic_partitions=2,
    broker_heartbeat_interval=0.3,
    broker_commit_interval=0.2,
    consumer_metadata_max_age_ms=1000,
)
words = app.topic(os.environ["TOPIC"], key_type=str, value_type=str)
counts = app.Table("counts", default=int)
processed = 0


@app.agent(words)
async def count(stream):
    global processed
    async for word in stream:
        counts[word] += 1
        processed += 1


@app.timer(0.2)
async def report():
    Path("report.json").write_text(json.dumps({"processed": processed, "counts": dict(counts)}))
"""


@pytest.fixture
def project(tmp_path: Path, kafka_bootstrap: str) -> tuple[Path, dict[str, str]]:
    (tmp_path / "wordapp.py").write_text(APP)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONUTF8": "1",
        "BROKER_URL": f"kafka://{kafka_bootstrap}",
        "APP_ID": f"cli-{uuid.uuid4().hex[:10]}",
        "TOPIC": f"words-{uuid.uuid4().hex[:10]}",
    }
    return tmp_path, env


def strm(
    project: tuple[Path, dict[str, str]], *args: str, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    directory, env = project
    return subprocess.run(
        [sys.executable, "-m", "strm", "-A", "wordapp", *args],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        input=input,
        timeout=TIMEOUT,
    )


def worker_until(project: tuple[Path, dict[str, str]], words: int) -> tuple[str, dict]:
    """Run a worker until it is ready and its table counts ``words`` words; then SIGINT it.
    Returns its stderr and its last report."""
    directory, env = project
    report = directory / "report.json"
    report.unlink(missing_ok=True)
    stderr = directory / "stderr.txt"
    with stderr.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "strm", "-A", "wordapp", "worker"],
            cwd=directory,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    last: dict = {}
    try:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline and proc.poll() is None:
            if "ready in" in stderr.read_text() and report.exists():
                try:
                    last = json.loads(report.read_text())
                except json.JSONDecodeError:  # caught mid-write
                    continue
                if sum(last["counts"].values()) >= words:
                    break
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(TIMEOUT) == 0, stderr.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(TIMEOUT)
    return stderr.read_text(), last


def replayed(stderr: str) -> int:
    found = re.search(r"1 table up to date \(([\d,]+) changelog records replayed\)", stderr)
    assert found, stderr
    return int(found[1].replace(",", ""))


async def read_back(bootstrap: str, topic: str, count: int) -> list[tuple[bytes, bytes, int]]:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    try:
        records: list[tuple[bytes, bytes, int]] = []
        deadline = time.monotonic() + 30
        while len(records) < count and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            for messages in batches.values():
                records += [(m.key, m.value, m.partition) for m in messages]
        return records
    finally:
        await consumer.stop()


async def test_send_is_read_back_from_the_broker(
    project: tuple[Path, dict[str, str]], kafka_bootstrap: str
) -> None:
    topic = project[1]["TOPIC"]
    # The topic's key and value types are str: the text is what is written, as it is.
    sent = strm(project, "send", topic, "hello", "--key", "k1", "--repeat", "3")
    assert sent.returncode == 0, sent.stderr
    metadata = [json.loads(line) for line in sent.stdout.splitlines()]
    assert [m["offset"] for m in metadata] == [0, 1, 2]
    partition = metadata[0]["partition"]
    assert {m["partition"] for m in metadata} == {partition}  # one key, one partition
    records = await read_back(kafka_bootstrap, topic, 3)
    assert records == [(b"k1", b"hello", partition)] * 3


def test_reset_then_a_worker_recovers_from_zero(project: tuple[Path, dict[str, str]]) -> None:
    topic = project[1]["TOPIC"]
    for word in ("apple", "pear", "plum"):
        sent = strm(project, "send", topic, word, "--key", word, "-r", "3")
        assert sent.returncode == 0, sent.stderr

    first, report = worker_until(project, 9)
    assert report["counts"] == {"apple": 3, "pear": 3, "plum": 3}, first
    assert report["processed"] == 9

    second, report = worker_until(project, 9)
    assert replayed(second) == 0, "the store holds the table: nothing to replay"
    assert report["processed"] == 0

    refused = strm(project, "reset", input="n\n")
    assert refused.returncode == 1
    assert "table counts (store rocksdb://)" in refused.stderr
    assert "Aborted." in refused.stderr

    reset = strm(project, "reset", "--yes", "--json")
    assert reset.returncode == 0, reset.stderr
    rows = json.loads(reset.stdout)
    assert [(r["kind"], r["name"], r["partitions"]) for r in rows] == [
        ("table", "counts", 2),
        ("topic", topic, 2),
    ]

    third, report = worker_until(project, 9)
    assert replayed(third) > 0, third
    assert report["counts"] == {"apple": 3, "pear": 3, "plum": 3}, third
    assert report["processed"] == 0, "the table's seals say the words were counted already"
