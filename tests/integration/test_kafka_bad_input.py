"""Bad input and a bad broker, on real Kafka.

(a) Undecodable records (bad JSON on a ``value_type=int`` topic) are logged with their topic,
    partition and offset, sent to the ``dead_letter_topic`` with their original bytes and the
    ``strm-*`` headers, and the agent keeps going: every good record around them is processed.
(b) The broker is stopped mid-run (``scripts/kafka stop``) and started again on the same data
    directory and ports (``scripts/kafka start --reuse``); the app, which never stopped,
    resumes consuming and producing, and nothing is lost (at-least-once: every key's count ≥
    its input count).
(c) No broker at start: ``strm worker`` tries again with backoff for broker_request_timeout,
    then exits with code 2 and one line naming the broker.
(d) A dead letter over ``producer_max_request_size`` is sent with its value cut to fit; one that
    cannot fit at all stops the worker before its offset is committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from itest_helpers import create_topic, read_topic
from strm.app import App
from strm.kernel.errors import DeadLetterError
from strm.runtime.deadletters import (
    HEADER_ERROR,
    HEADER_OFFSET,
    HEADER_PARTITION,
    HEADER_STAGE,
    HEADER_TOPIC,
    HEADER_TRUNCATED,
)
from strm.testing import eventually

pytestmark = [pytest.mark.slow, pytest.mark.kafka]

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "kafka"


# ---------------------------------------------------------------------------------------------
# (a) undecodable records
# ---------------------------------------------------------------------------------------------


async def test_undecodable_records_are_logged_dead_lettered_and_skipped(
    kafka_app: Callable[..., App],
    kafka_bootstrap: str,
    unique: Callable[[str], str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    source, dead = unique("numbers"), unique("numbers-dead")
    app = kafka_app(dead_letter_topic=dead, topic_partitions=1)
    numbers = app.topic(source, value_type=int, partitions=1)
    got: list[int] = []

    @app.agent(numbers)
    async def add(stream: Any) -> None:
        async for n in stream:
            got.append(n)

    # offset: value — good ints around three kinds of garbage
    payloads: list[tuple[bytes | None, bytes]] = [
        (b"k0", b"1"),
        (b"k1", b"{not json"),
        (b"k2", b"2"),
        (b"k3", b"\xff\xfe\x00"),
        (b"k4", b"3"),
        (None, b"[1, 2"),
        (b"k6", b"4"),
    ]
    bad_offsets = {1, 3, 5}
    caplog.set_level(logging.ERROR, logger="strm.deadletters")
    async with app.running():
        for key, value in payloads:
            await numbers.send_raw(key=key, value=value, headers=[("origin", b"test")])
        await eventually(lambda: len(got) == 4, timeout=30)
        await eventually(lambda: app.monitor.asdict()["dead_letters"], timeout=10)
        # and the agent goes on after them
        await numbers.send(value=5)
        await eventually(lambda: len(got) == 5, timeout=20)
    assert got == [1, 2, 3, 4, 5]

    logged = [r.getMessage() for r in caplog.records if r.name == "strm.deadletters"]
    for offset in bad_offsets:
        assert any(
            f"record {source}[0]@{offset} failed to decode" in m and repr(dead) in m for m in logged
        ), logged
    assert len(logged) == len(bad_offsets)

    letters = await read_topic(kafka_bootstrap, dead, len(bad_offsets))
    assert len(letters) == len(bad_offsets)
    by_offset = {}
    for letter in letters:
        headers = dict(letter.headers)
        assert headers[HEADER_TOPIC] == source.encode()
        assert headers[HEADER_PARTITION] == b"0"
        assert headers[HEADER_STAGE] == b"decode"
        assert headers[HEADER_ERROR]
        assert headers["origin"] == b"test"  # the original headers are kept
        by_offset[int(headers[HEADER_OFFSET])] = letter
    assert set(by_offset) == bad_offsets
    for offset, letter in by_offset.items():
        key, value = payloads[offset]
        assert (letter.key, letter.value) == (key, value)  # the original bytes


# ---------------------------------------------------------------------------------------------
# (b) the broker restarted mid-run
# ---------------------------------------------------------------------------------------------


def kafka_script(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )


def port_open(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
        return True
    return False


WORDS = [f"w{i:02d}" for i in range(20)]


async def test_app_resumes_after_the_broker_restarts_and_loses_nothing(
    tmp_path: Path, unique: Callable[[str], str]
) -> None:
    directory = tmp_path / "broker"
    started = kafka_script(
        "start", "--dir", str(directory), "--timeout", "60", "--owner-pid", str(os.getpid())
    )
    bootstrap = started.stdout.strip().splitlines()[-1]
    state = json.loads((directory / "state.json").read_text())
    port = state["nodes"][0]["ports"]["PLAINTEXT"]
    assert bootstrap == f"127.0.0.1:{port}"
    try:
        source, sink = unique("restart-in"), unique("restart-out")
        app = App(
            unique("restart"),
            plugins=["strm_transport_kafka"],
            environ={},
            entry_points=False,
            broker=f"kafka://{bootstrap}",
            datadir=str(tmp_path / "data"),
            topic_partitions=2,
            broker_commit_interval=0.2,
            broker_heartbeat_interval=0.5,
            broker_session_timeout=6.0,
            broker_request_timeout=10.0,
            consumer_metadata_max_age_ms=1000,
        )
        words = app.topic(source, key_type=str, value_type=str, partitions=2)
        out = app.topic(sink, key_type=str, value_type=str, partitions=2)
        counts: Counter[str] = Counter()

        @app.agent(words)
        async def count(stream: Any) -> None:
            async for key, word in stream.items():
                counts[word] += 1
                if sum(counts.values()) % 10 == 0:
                    await asyncio.sleep(0.01)  # slow: still busy when the broker goes
                await out.send(key=key, value=word)

        expected: Counter[str] = Counter()
        async with app.running():
            for i in range(2000):
                word = WORDS[i % len(WORDS)]
                expected[word] += 1
                await words.send(key=word, value=word)
            await eventually(lambda: sum(counts.values()) >= 300, timeout=20)

            kafka_script("stop", "--dir", str(directory), "--timeout", "30")
            assert not port_open(port)
            counted_while_down = sum(counts.values())
            assert counted_while_down < sum(expected.values()), "stopped too late"
            await asyncio.sleep(3.0)  # the app runs on without a broker

            # the same node on its ports and data; in a thread: the app runs on meanwhile
            restarted = await asyncio.to_thread(
                kafka_script,
                "start", "--reuse", "--dir", str(directory), "--timeout", "40",
                "--owner-pid", str(os.getpid()),
            )  # fmt: skip
            assert restarted.stdout.strip().splitlines()[-1] == bootstrap
            assert port_open(port)
            # more input after the restart: the producer and consumer both came back
            for i in range(500):
                word = WORDS[(i * 3) % len(WORDS)]
                expected[word] += 1
                await words.send(key=word, value=word)
            await eventually(lambda: all(counts[w] >= n for w, n in expected.items()), timeout=45)
        assert set(counts) == set(expected)
        assert all(counts[w] >= n for w, n in expected.items()), "lost records"

        outputs = await read_topic(bootstrap, sink, sum(expected.values()), timeout=20)
        forwarded = Counter(r.value.decode().strip('"') for r in outputs)
        assert all(forwarded[w] >= n for w, n in expected.items()), "lost output records"
    finally:
        with contextlib.suppress(Exception):
            kafka_script("stop", "--dir", str(directory), "--timeout", "30")


# ---------------------------------------------------------------------------------------------
# (c) no broker at start: `strm worker` retries with backoff, then exits with one line
# ---------------------------------------------------------------------------------------------

UNREACHABLE_APP = """
import strm

app = strm.App(
    "unreachable",
    broker="kafka://127.0.0.1:1",
    broker_request_timeout=2.0,
    broker_session_timeout=2.0,
    broker_heartbeat_interval=0.5,
)


@app.agent(app.topic("orders", partitions=1))
async def read(stream):
    async for _ in stream:
        pass
"""


def test_a_worker_without_a_broker_retries_then_exits_with_code_2(tmp_path: Path) -> None:
    (tmp_path / "unreachableapp.py").write_text(UNREACHABLE_APP)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("STRM_", "APP_"))},
        "PYTHONPATH": str(tmp_path),
    }
    command = [sys.executable, "-m", "strm", "-A", "unreachableapp"]
    command += ["--datadir", str(tmp_path / "data"), "worker", "--without-web"]
    done = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2, done.stderr
    retries = [line for line in done.stderr.splitlines() if "trying again for" in line]
    assert len(retries) >= 2, done.stderr  # backoff: several attempts within the 2 s
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: cannot reach the Kafka broker(s) 127.0.0.1:1"), last
    assert "attempts in 2 s, broker_request_timeout" in last


# ---------------------------------------------------------------------------------------------
# (d) dead letters too large to send
# ---------------------------------------------------------------------------------------------


async def test_a_dead_letter_too_large_to_send_is_cut_to_fit_or_stops_the_worker(
    kafka_app: Callable[..., App],
    kafka_bootstrap: str,
    unique: Callable[[str], str],
) -> None:
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
    from aiokafka.structs import TopicPartition

    source, dead = unique("big"), unique("big-dead")
    app = kafka_app(dead_letter_topic=dead, topic_partitions=1, producer_max_request_size=4_096)
    numbers = app.topic(source, value_type=int, partitions=1)
    got: list[int] = []

    @app.agent(numbers)
    async def add(stream: Any) -> None:
        async for n in stream:
            got.append(n)

    # Written with aiokafka's default limit (1 MiB): the app reads them but cannot send them on
    # whole. Offset 0 fits once its value is cut; offset 2 does not, its key alone is too large.
    await create_topic(kafka_bootstrap, source, 1)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(source, b"x" * 10_000, key=b"k")
        await producer.send_and_wait(source, b"1")
        await producer.send_and_wait(source, b"oops", key=b"k" * 5_000)
        await producer.send_and_wait(source, b"2")
    finally:
        await producer.stop()

    with pytest.raises(DeadLetterError):  # the app's stop raises the error it stopped on
        async with app.running():
            await eventually(lambda: app.crash_error is not None, timeout=30)
            error = app.crash_error
            assert got == [1]
    assert isinstance(error, DeadLetterError), error
    assert f"record {source}[0]@2 failed to decode" in str(error)
    assert "producer_max_request_size" in str(error)

    letters = await read_topic(kafka_bootstrap, dead, 2, timeout=5)
    assert len(letters) == 1, "only the record whose value could be cut to fit"
    (letter,) = letters
    headers = dict(letter.headers)
    assert headers[HEADER_TRUNCATED] == b"10000"
    assert headers[HEADER_OFFSET] == b"0"
    assert letter.key == b"k"
    assert 3_000 < len(letter.value) < 4_096 and set(letter.value) == {ord("x")}

    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=app.conf.id)
    await consumer.start()
    try:
        committed = await consumer.committed(TopicPartition(source, 0))
    finally:
        await consumer.stop()
    assert committed is None or committed <= 2, f"committed past the lost record: {committed}"
