"""``processing_guarantee='exactly_once'`` on the memory transport: what processing sends and
the source offsets become visible together, at the checkpoint, or not at all."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from strm.app import App
from strm.builtins.memory_transport import get_broker
from strm.kernel.errors import ConfigurationError
from strm.kernel.spi import TP
from strm.testing import eventually


def records(broker_url: str, topic: str) -> list[Any]:
    broker = get_broker(broker_url)
    if topic not in broker.topics:
        return []
    return [m for log in broker.topics[topic].logs for m in log]


async def test_sends_and_offsets_are_committed_together(
    make_app: Callable[..., App], broker_url: str
) -> None:
    app = make_app(
        "eos",
        topic_partitions=1,
        processing_guarantee="exactly_once",
        broker_commit_interval=3600.0,
    )
    source = app.topic("eos-in", value_type=int)
    out = app.topic("eos-out", value_type=int)
    done: list[int] = []

    @app.agent(source)
    async def double(stream: Any) -> None:
        async for value in stream:
            await out.send(value=value * 2)
            done.append(value)

    feeder = make_app("feeder", topic_partitions=1)  # input from outside the transaction
    async with app.running():
        await out.declare()
        for i in range(3):
            await feeder.topic("eos-in", value_type=int).send(value=i)
        await eventually(lambda: len(done) == 3)
        assert records(broker_url, "eos-out") == []  # not committed yet: invisible
        await app.conductor.checkpoint()
        assert [m.value for m in records(broker_url, "eos-out")] == [b"0", b"2", b"4"]
        assert get_broker(broker_url).group("eos").committed[TP("eos-in", 0)] == 3


async def test_a_worker_that_dies_mid_transaction_leaves_nothing_behind(
    make_app: Callable[..., App], broker_url: str
) -> None:
    app = make_app(
        "eos2",
        topic_partitions=1,
        processing_guarantee="exactly_once",
        broker_commit_interval=3600.0,
        stream_wait_empty=False,
    )
    source = app.topic("eos2-in", value_type=int)
    out = app.topic("eos2-out", value_type=int)
    done: list[int] = []

    @app.agent(source)
    async def copy(stream: Any) -> None:
        async for value in stream:
            await out.send(value=value)
            done.append(value)

    feeder = make_app("feeder2", topic_partitions=1)
    async with app.running():
        for i in range(3):
            await feeder.topic("eos2-in", value_type=int).send(value=i)
        await eventually(lambda: len(done) == 3)
        # the worker "dies": its transaction is aborted instead of committed
        sender = await app.get_sender()
        await sender.producer.abort_transaction()  # type: ignore[attr-defined]
        sender.in_transaction = False
        app.conductor.committable = lambda: {}  # type: ignore[method-assign]
    assert records(broker_url, "eos2-out") == []
    again = make_app("eos2", topic_partitions=1, processing_guarantee="exactly_once")
    again_out: list[int] = []

    @again.agent(again.topic("eos2-in", value_type=int))
    async def copy_again(stream: Any) -> None:
        async for value in stream:
            await again.topic("eos2-out", value_type=int).send(value=value)
            again_out.append(value)

    async with again.running():
        await eventually(lambda: again_out == [0, 1, 2])
        await again.conductor.checkpoint()
    assert [m.value for m in records(broker_url, "eos2-out")] == [b"0", b"1", b"2"]


async def test_tables_under_exactly_once(make_app: Callable[..., App]) -> None:
    app = make_app("eost", topic_partitions=1, processing_guarantee="exactly_once")
    words = app.topic("eost-words", key_type=str, value_type=str)
    counts = app.Table("counts", default=int)
    seen: list[str] = []

    @app.agent(words)
    async def count(stream: Any) -> None:
        async for word in stream:
            counts[word] += 1
            seen.append(word)

    feeder = make_app("feeder3", topic_partitions=1)
    async with app.running():
        for word in ["a", "b", "a"]:
            await feeder.topic("eost-words", key_type=str, value_type=str).send(
                key=word, value=word
            )
        await eventually(lambda: len(seen) == 3)
    again = make_app("eost", topic_partitions=1, processing_guarantee="exactly_once")
    counts2 = again.Table("counts", default=int)
    again.topic("eost-words", key_type=str, value_type=str)
    again.conductor.needs_leader = True
    async with again.running():
        assert counts2.as_dict() == {"a": 2, "b": 1}


async def test_exactly_once_needs_a_transactional_transport(
    make_app: Callable[..., App], monkeypatch: pytest.MonkeyPatch
) -> None:
    from strm.builtins import memory_transport as memory

    app = make_app("eosno", processing_guarantee="exactly_once")
    plain = memory.MemoryTransport.create_producer

    def untransactional(self: Any, *, client_id: str, transactional_id: Any = None) -> Any:
        producer = plain(self, client_id=client_id)

        class Plain:  # only the Producer protocol
            start, stop, send = producer.start, producer.stop, producer.send
            flush, partitions_for = producer.flush, producer.partitions_for

        return Plain()

    monkeypatch.setattr(memory.MemoryTransport, "create_producer", untransactional)
    with pytest.raises(ConfigurationError, match="needs a transport with transactions"):
        await app.get_sender()


async def test_a_send_that_fails_in_the_transaction_stops_the_worker_instead_of_skipping(
    make_app: Callable[..., App], monkeypatch: pytest.MonkeyPatch
) -> None:
    from strm.builtins.memory_transport import MemoryProducer
    from strm.kernel.transports import TransportError

    app = make_app("eosfail", topic_partitions=1, processing_guarantee="exactly_once")
    source = app.topic("eosfail-in", value_type=int)
    out = app.topic("eosfail-out", value_type=int)

    @app.agent(source)
    async def copy(stream: Any) -> None:
        async for value in stream:
            await out.send(value=value)

    plain_send = MemoryProducer.send

    async def failing_send(self: MemoryProducer, record: Any) -> Any:
        if record.topic == "eosfail-out":
            raise TransportError("the transaction was fenced")
        return await plain_send(self, record)

    feeder = make_app("feeder-eosfail", topic_partitions=1)
    with pytest.raises(TransportError, match="fenced"):
        async with app.running():
            monkeypatch.setattr(MemoryProducer, "send", failing_send)
            await feeder.topic("eosfail-in", value_type=int).send(value=1)
            await asyncio.wait_for(app.wait_crashed(), 5)
            assert app.conductor.committable() == {}  # not skipped: processed again later
