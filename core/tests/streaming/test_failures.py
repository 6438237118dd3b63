"""Bad records and failing agents: dead letters, supervisors, test_context."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import pytest
from strm.app import App
from strm.builtins.memory_transport import get_broker
from strm.kernel.spi import TP
from strm.testing import eventually


def records_of(broker_url: str, topic: str) -> list[Any]:
    broker = get_broker(broker_url)
    if topic not in broker.topics:
        return []
    return [m for log in broker.topics[topic].logs for m in log]


async def test_undecodable_records_are_logged_skipped_and_the_partition_goes_on(
    make_app: Callable[..., App], caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(topic_partitions=1)
    topic = app.topic("json-in")
    seen: list[Any] = []

    @app.agent(topic)
    async def read(stream: Any) -> None:
        async for value in stream:
            seen.append(value)

    async with app.running():
        await topic.send_raw(key=None, value=b'{"ok": 1}')
        await topic.send_raw(key=None, value=b"{not json")
        await topic.send_raw(key=None, value=b'{"ok": 2}')
        await eventually(lambda: len(seen) == 2)
        await eventually(lambda: app.conductor.committable() == {TP("json-in", 0): 3})
    assert seen == [{"ok": 1}, {"ok": 2}]
    assert "json-in[0]@1 failed to decode and was skipped" in caplog.text
    assert "ValueDecodeError" in caplog.text


async def test_dead_letter_topic_gets_the_original_bytes_and_why(
    make_app: Callable[..., App], broker_url: str
) -> None:
    app = make_app(topic_partitions=1, dead_letter_topic="dlq")
    topic = app.topic("orders", value_type=int)
    seen: list[int] = []

    @app.agent(topic)
    async def read(stream: Any) -> None:
        async for value in stream:
            if value == 13:
                raise RuntimeError("unlucky")
            seen.append(value)

    async with app.running():
        await topic.send_raw(key=b"k", value=b"oops")
        for value in (1, 13, 2):
            await topic.send(value=value)
        await eventually(lambda: seen == [1, 2])
        await eventually(lambda: len(records_of(broker_url, "dlq")) == 2)
    dead = records_of(broker_url, "dlq")
    decode, process = sorted(dead, key=lambda m: dict(m.headers)["strm-source-offset"])
    assert decode.value == b"oops" and decode.key == b"k"
    headers = dict(decode.headers)
    assert headers["strm-error-stage"] == b"decode"
    assert headers["strm-source-topic"] == b"orders"
    assert headers["strm-source-partition"] == b"0"
    assert headers["strm-source-offset"] == b"0"
    assert b"ValueDecodeError" in headers["strm-error"]
    process_headers = dict(process.headers)
    assert process_headers["strm-error-stage"] == b"process"
    assert process_headers["strm-source-offset"] == b"2"
    assert process_headers["strm-error"] == b"RuntimeError: unlucky"


async def test_one_for_one_restarts_the_failed_instance(make_app: Callable[..., App]) -> None:
    app = make_app(topic_partitions=1)
    topic = app.topic("ofo", value_type=int)
    seen: list[int] = []
    starts = [0]

    @app.agent(topic)
    async def fragile(stream: Any) -> None:
        starts[0] += 1
        async for value in stream:
            if value < 0:
                raise ValueError("negative")
            seen.append(value)

    async with app.running():
        for value in (1, -1, 2, -2, 3):
            await topic.send(value=value)
        await eventually(lambda: seen == [1, 2, 3])
        await eventually(lambda: app.conductor.committable() == {TP("ofo", 0): 5})
    assert starts[0] == 3


@pytest.mark.parametrize(
    ("strategy", "expect_restart"),
    [("forfeit_one_for_one", False), ("one_for_all", True), ("forfeit_one_for_all", False)],
)
async def test_supervisor_strategies(
    make_app: Callable[..., App], strategy: str, expect_restart: bool
) -> None:
    app = make_app(topic_partitions=1)
    topic = app.topic("sup", value_type=int)
    starts = [0]
    seen: list[int] = []

    @app.agent(topic, concurrency=2, supervisor_strategy=strategy)
    async def worker(stream: Any) -> None:
        starts[0] += 1
        async for value in stream:
            if value < 0:
                raise ValueError("boom")
            seen.append(value)

    async with app.running():
        await eventually(lambda: starts[0] == 2)
        await topic.send(value=-1)
        await asyncio.sleep(0.1)
        for value in range(3):
            await topic.send(value=value)
        if strategy == "forfeit_one_for_all":
            await asyncio.sleep(0.1)
            assert seen == []  # every instance gave up
        else:
            await eventually(lambda: sorted(seen) == [0, 1, 2])
    expected = {"forfeit_one_for_one": 2, "one_for_all": 4, "forfeit_one_for_all": 2}[strategy]
    assert starts[0] == expected
    assert expect_restart == (starts[0] > 2)


async def test_crashing_supervisor_stops_the_app_and_keeps_the_record(
    make_app: Callable[..., App],
) -> None:
    app = make_app(topic_partitions=1, agent_supervisor="crashing")
    topic = app.topic("crash", value_type=int)

    @app.agent(topic)
    async def fragile(stream: Any) -> None:
        async for value in stream:
            raise RuntimeError(f"cannot handle {value}")

    with pytest.raises(RuntimeError, match="cannot handle 7"):
        async with app.running():
            await topic.send(value=7)
            error = await asyncio.wait_for(app.wait_crashed(), 5)
            assert "cannot handle 7" in str(error)
            assert app.conductor.committable() == {}  # the record will be processed again


async def test_restart_budget_stops_the_app(make_app: Callable[..., App]) -> None:
    app = make_app(topic_partitions=1)
    topic = app.topic("budget", value_type=int)

    @app.agent(topic)
    async def always_fails(stream: Any) -> None:
        async for _ in stream:
            raise RuntimeError("always")

    with pytest.raises(RuntimeError, match="always"):
        async with app.running():
            for i in range(150):
                await topic.send(value=i)
            error = await asyncio.wait_for(app.wait_crashed(), 5)
    assert str(error) == "always"


async def test_test_context_puts_and_collects(make_app: Callable[..., App]) -> None:
    app = make_app()

    @app.agent()
    async def shout(stream: Any) -> Any:
        async for value in stream:
            if value == "bad":
                raise ValueError("bad value")
            yield value.upper()

    @app.agent()
    async def count(stream: Any) -> None:
        async for _ in stream:
            pass

    async with shout.test_context() as agent:
        event = await agent.put("hi")
        assert agent.results[event.message.offset] == "HI"
        with pytest.raises(ValueError, match="bad value"):
            await agent.put("bad")
        event = await agent.put("again")
        # Results are numbered in processing order, as Faust's are: the failed put has an
        # offset (1) but no result, so "AGAIN" (offset 2) is result 1.
        assert event.message.offset == 2 and agent.results == {0: "HI", 1: "AGAIN"}
    async with count.test_context() as counter:
        event = await counter.put(5, key="k")
        assert counter.results == {0: 5}
        assert event.key == "k"


async def test_slow_events_and_stuck_commits_are_reported(
    make_app: Callable[..., App], caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(
        topic_partitions=1,
        stream_processing_timeout=0.1,
        broker_commit_livelock_soft_timeout=0.2,
        broker_commit_interval=0.05,
    )
    topic = app.topic("slow", value_type=int)
    release = asyncio.Event()

    @app.agent(topic)
    async def slow(stream: Any) -> None:
        async for _ in stream:
            await release.wait()

    caplog.set_level(logging.WARNING, "strm.conductor")
    async with app.running():
        await topic.send(value=1)
        await topic.send(value=2)
        await eventually(lambda: "stream_processing_timeout" in caplog.text, timeout=3)
        await eventually(lambda: "broker_commit_livelock_soft_timeout" in caplog.text, timeout=3)
        release.set()
    assert "slow[0]@0" in caplog.text
    # The position also travels as fields, for the JSON log format.
    taking = next(r for r in caplog.records if "stream_processing_timeout" in r.getMessage())
    assert (taking.topic, taking.partition, taking.offset) == ("slow", 0, 0)
    stuck = next(r for r in caplog.records if "livelock" in r.getMessage())
    assert (stuck.topic, stuck.partition) == ("slow", 0)
    assert not hasattr(stuck, "offset")


def test_a_crashing_agent_stops_the_worker_with_exit_code_1(tmp_path: Any) -> None:
    import subprocess
    import sys

    (tmp_path / "crashapp.py").write_text(
        "import strm\n"
        "app = strm.App('crashapp', agent_supervisor='crashing')\n"
        "@app.agent()\n"
        "async def fragile(stream):\n"
        "    async for value in stream:\n"
        "        raise RuntimeError(f'cannot handle {value}')\n"
        "@app.task\n"
        "async def poke():\n"
        "    await fragile.send(value=42)\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "strm", "-A", "crashapp", "worker", "--without-web"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tmp_path)},
    )
    assert result.returncode == 1, result.stderr
    errors = [line for line in result.stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 1, result.stderr  # the agent's line: its error, where, and the decision
    decision = "raised RuntimeError: cannot handle 42; supervisor decision: stop the worker"
    assert decision in errors[0]


async def test_an_unknown_codec_is_a_configuration_error_when_the_topic_is_defined(
    make_app: Callable[..., App],
) -> None:
    from strm import Record
    from strm.kernel.errors import ConfigurationError

    app = make_app()
    expected = "topic 'x': value_serializer: unknown codec 'nope'"
    with pytest.raises(ConfigurationError, match=expected):
        app.topic("x", value_serializer="nope")

    class Odd(Record, serializer="json|nope2"):
        a: int

    with pytest.raises(ConfigurationError, match="unknown codec 'nope2'"):
        app.topic("y", value_type=Odd)


async def test_records_with_missing_or_mistyped_fields_are_dead_lettered(
    make_app: Callable[..., App], caplog: pytest.LogCaptureFixture
) -> None:
    from strm import Record

    class Point(Record, validation=True):
        x: int
        y: int

    app = make_app(topic_partitions=1)
    topic = app.topic("points", value_type=Point)
    seen: list[Any] = []

    @app.agent(topic)
    async def read(stream: Any) -> None:
        async for point in stream:
            seen.append(point)

    async with app.running():
        await topic.send_raw(key=None, value=b'{"x": 1}')
        await topic.send_raw(key=None, value=b'{"x": "one", "y": 2}')
        await topic.send(value=Point(x=3, y=4))
        await eventually(lambda: len(seen) == 1)
        await eventually(lambda: app.conductor.committable() == {TP("points", 0): 3})
    assert seen == [Point(x=3, y=4)]
    assert "points[0]@0 failed to decode" in caplog.text and "y" in caplog.text
    assert "points[0]@1 failed to decode" in caplog.text
