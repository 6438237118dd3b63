"""The ``memory://`` transport: the transport contract, what is specific to a broker living in
the process, and proof that the contract catches a broken transport."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import pytest
from strm.app import App
from strm.builtins import (
    memory_transport as memory,
)
from strm.builtins.memory_transport import (
    MemoryConsumer,
    MemoryProducer,
    MemoryTransport,
    broker_key,
    drop_broker,
    get_broker,
    unique_url,
)
from strm.builtins.memory_transport.broker import Group
from strm.kernel.assignor import Assignment
from strm.kernel.errors import BackendNotFoundError, ConfigurationError
from strm.kernel.spi import TP, Message, ProducerRecord, TopicSpec
from strm.kernel.transports import (
    NoOffsetForPartitionError,
    PartitionNotAssignedError,
    TransportError,
)
from strm.testing.contexts import backend_factory, context_settings, transport_context
from strm.testing.contracts.transport import (
    RecordingListener,
    TransportContract,
    TransportFactory,
)

AppFactory = Callable[..., App]
Events = list[tuple[str, str, frozenset[TP]]]


@pytest.fixture
def url() -> Iterator[str]:
    url = unique_url()
    yield url
    drop_broker(url)


@pytest.fixture
def make_transport(url: str) -> Callable[..., MemoryTransport]:
    """A transport of a new member on the test's broker, built as strm builds it but without an
    app: settings go to its context."""
    count = 0

    def make(**settings: object) -> MemoryTransport:
        nonlocal count
        count += 1
        conf = context_settings(f"app-{count}", broker=url, **settings)
        factory = backend_factory("transport", url)
        transport: MemoryTransport = factory(context=transport_context(conf=conf), urls=conf.broker)
        return transport

    return make


class TestMemoryTransport(TransportContract):
    timeout = 3.0

    @pytest.fixture
    def transport_factory(self, make_transport: Callable[..., MemoryTransport]) -> TransportFactory:
        return make_transport


# -- helpers -----------------------------------------------------------------------------------


async def started_producer(transport: MemoryTransport) -> MemoryProducer:
    producer = transport.create_producer(client_id="p")
    await producer.start()
    return producer


async def fill(producer: MemoryProducer, topic: str, partition: int, count: int) -> None:
    for i in range(count):
        await producer.send(ProducerRecord(topic, partition, b"k", b"%d" % i))


async def member(
    transport: MemoryTransport, topics: list[str], events: Events, name: str, group: str = "g"
) -> MemoryConsumer:
    consumer = transport.create_consumer(group_id=group, client_id=name)
    consumer.subscribe(topics, RecordingListener(name, events))
    await consumer.start()
    return consumer


def offsets(batch: Mapping[TP, Sequence[Message]], tp: TP) -> list[int]:
    return [message.offset for message in batch.get(tp, [])]


# -- registration and the broker registry ------------------------------------------------------


def test_memory_is_the_default_transport(strm_app: App) -> None:
    provision = strm_app.resolve_backend("broker")
    assert (provision.name, provision.factory, provision.distribution) == (
        "memory",
        MemoryTransport,
        "strm",
    )


def test_blocking_the_memory_transport_plugin(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory(plugins=["no:memory_transport"])
    with pytest.raises(BackendNotFoundError, match=r"broker 'memory://'"):
        app.resolve_backend("broker")


def test_broker_keys() -> None:
    assert broker_key("memory://") == ""
    assert broker_key("memory://x") == "x"
    assert broker_key("memory://x/y") == "x/y"
    with pytest.raises(ConfigurationError, match="kafka://h"):
        broker_key("kafka://h")


async def test_apps_with_one_url_share_a_broker_and_other_urls_do_not(
    make_transport: Callable[..., MemoryTransport], strm_app_factory: AppFactory
) -> None:
    one, two = make_transport(), make_transport()
    assert one.broker is two.broker
    assert await one.create_admin().create_topic(TopicSpec("t", 2))
    assert await two.create_admin().partition_count("t") == 2

    other_url = unique_url()
    try:
        other = MemoryTransport(context=transport_context(), urls=[other_url])
        assert other.broker is not one.broker
        assert await other.create_admin().partition_count("t") is None
    finally:
        drop_broker(other_url)


def test_dropping_a_broker_starts_it_afresh(url: str) -> None:
    broker = get_broker(url)
    assert get_broker(url) is broker
    drop_broker(url)
    assert get_broker(url) is not broker


def test_urls_of_two_brokers_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="one broker"):
        MemoryTransport(context=transport_context(), urls=["memory://a", "memory://b"])
    with pytest.raises(ConfigurationError, match="needs a URL"):
        MemoryTransport(context=transport_context(), urls=[])


# -- topics --------------------------------------------------------------------------------------


async def test_topics_are_created_on_first_use_with_topic_partitions(
    make_transport: Callable[..., MemoryTransport],
) -> None:
    transport = make_transport()
    assert transport.context.conf.topic_partitions == 8
    admin = transport.create_admin()
    producer = await started_producer(transport)
    assert await producer.partitions_for("by-metadata") == 8
    done = await producer.send(ProducerRecord("by-send", 7, None, b"v"))
    assert (await done).offset == 0
    assert await admin.partition_count("by-send") == 8
    events: Events = []
    consumer = await member(transport, ["by-subscription"], events, "c")
    assert await admin.partition_count("by-subscription") == 8
    assert len(consumer.assignment()) == 8
    assert await admin.create_topic(TopicSpec("by-send", 2)) is False
    await consumer.stop()


async def test_create_topic_keeps_the_given_partitions_and_refuses_none(
    make_transport: Callable[..., MemoryTransport],
) -> None:
    admin = make_transport().create_admin()
    assert await admin.create_topic(TopicSpec("t", 3, config={"cleanup.policy": "compact"}))
    assert await admin.partition_count("t") == 3
    with pytest.raises(ValueError, match="at least one partition"):
        await admin.create_topic(TopicSpec("empty", 0))


async def test_send_appends_at_once_in_order_and_keeps_the_record(
    make_transport: Callable[..., MemoryTransport],
) -> None:
    transport = make_transport()
    producer = await started_producer(transport)
    first = await producer.send(ProducerRecord("t", 1, b"k", b"a", 12.5, [("h", b"1")]))
    second = await producer.send(ProducerRecord("t", 1, None, None))
    log = transport.broker.log(TP("t", 1))
    assert [(m.offset, m.key, m.value) for m in log] == [(0, b"k", b"a"), (1, None, None)]
    assert log[0].timestamp == 12.5
    assert list(log[0].headers) == [("h", b"1")]
    meta = await first
    assert (meta.topic, meta.partition, meta.offset, meta.timestamp) == ("t", 1, 0, 12.5)
    assert (await second).offset == 1
    assert (await asyncio.gather(first))[0] == meta, "the result is awaitable more than once"
    await producer.flush()


async def test_send_refuses_a_missing_partition_and_a_stopped_producer(
    make_transport: Callable[..., MemoryTransport],
) -> None:
    transport = make_transport()
    producer = transport.create_producer(client_id="p")
    with pytest.raises(TransportError, match="not started"):
        await producer.send(ProducerRecord("t", 0, None, b"v"))
    await producer.start()
    await transport.create_admin().create_topic(TopicSpec("t", 2))
    with pytest.raises(TransportError, match=r"TP\(topic='t', partition=2\).*2 partitions"):
        await producer.send(ProducerRecord("t", 2, None, b"v"))
    with pytest.raises(TransportError, match="partition=-1"):
        await producer.send(ProducerRecord("t", -1, None, b"v"))
    await producer.stop()
    with pytest.raises(TransportError, match="not started"):
        await producer.send(ProducerRecord("t", 0, None, b"v"))
    with pytest.raises(TransportError, match="cannot restart"):
        await producer.start()


# -- fetching ----------------------------------------------------------------------------------


async def test_getmany_waits_for_an_append_without_polling(
    make_transport: Callable[..., MemoryTransport],
) -> None:
    transport = make_transport()
    producer = await started_producer(transport)
    consumer = await member(transport, ["t"], [], "c")
    loop = asyncio.get_running_loop()

    started = loop.time()
    assert await consumer.getmany(0.1) == {}
    assert loop.time() - started >= 0.09

    async def send_later() -> None:
        await asyncio.sleep(0.05)
        await producer.send(ProducerRecord("t", 3, None, b"v"))

    sender = asyncio.create_task(send_later())
    started = loop.time()
    batch = await consumer.getmany(5.0)
    assert loop.time() - started < 1.0
    assert offsets(batch, TP("t", 3)) == [0]
    await sender
    await consumer.stop()


async def test_stopping_wakes_a_waiting_getmany(
    make_transport: Callable[..., MemoryTransport],
) -> None:
    consumer = await member(make_transport(), ["t"], [], "c")
    waiting = asyncio.create_task(consumer.getmany(5.0))
    await asyncio.sleep(0.02)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await consumer.stop()
    assert await asyncio.wait_for(waiting, 1.0) == {}
    assert loop.time() - started < 1.0
    with pytest.raises(TransportError, match="not started"):
        await consumer.getmany(0)
    with pytest.raises(TransportError, match="cannot restart"):
        await consumer.start()


async def test_a_fetch_is_bounded_and_shared_fairly(
    make_transport: Callable[..., MemoryTransport],
) -> None:
    transport = make_transport()
    await transport.create_admin().create_topic(TopicSpec("t", 3))
    producer = await started_producer(transport)
    limit = memory.MAX_RECORDS_PER_FETCH
    await fill(producer, "t", 0, limit + 2000)
    await fill(producer, "t", 1, 10)
    await fill(producer, "t", 2, limit)
    consumer = await member(transport, ["t"], [], "c")
    first = await consumer.getmany(0)
    sizes = {tp.partition: len(messages) for tp, messages in first.items()}
    assert sum(sizes.values()) == limit
    assert sizes[1] == 10
    assert abs(sizes[0] - sizes[2]) <= 1
    second = await consumer.getmany(0)
    assert sum(len(m) for m in second.values()) == limit
    assert offsets(second, TP("t", 0))[0] == sizes[0]
    total = sum(len(m) for m in first.values()) + sum(len(m) for m in second.values())
    third = await consumer.getmany(0)
    total += sum(len(m) for m in third.values())
    assert total == 2 * limit + 2010
    assert await consumer.getmany(0) == {}
    await consumer.stop()


async def test_a_budget_smaller_than_the_partitions_with_records_serves_them_in_turn(
    make_transport: Callable[..., MemoryTransport],
) -> None:
    transport = make_transport()
    await transport.create_admin().create_topic(TopicSpec("t", 5))
    producer = await started_producer(transport)
    for partition in range(5):
        await fill(producer, "t", partition, 3)
    consumer = await member(transport, ["t"], [], "c")
    served: list[int] = []
    for _ in range(8):
        batch = await consumer.getmany(0, max_records=2)
        assert sum(len(messages) for messages in batch.values()) <= 2
        served += [tp.partition for tp in batch]
    assert served == [0, 1, 2, 3, 4] * 3
    await consumer.stop()


# -- offsets -----------------------------------------------------------------------------------


async def test_latest_starts_at_the_end_without_a_committed_offset(
    make_transport: Callable[..., MemoryTransport],
) -> None:
    transport = make_transport(consumer_auto_offset_reset="latest")
    await transport.create_admin().create_topic(TopicSpec("t", 1))
    producer = await started_producer(transport)
    await fill(producer, "t", 0, 3)
    consumer = await member(transport, ["t"], [], "c")
    assert await consumer.getmany(0) == {}
    await fill(producer, "t", 0, 2)
    assert offsets(await consumer.getmany(0), TP("t", 0)) == [3, 4]
    await consumer.stop()


async def test_a_committed_offset_beats_auto_offset_reset(
    make_transport: Callable[..., MemoryTransport],
) -> None:
    transport = make_transport(consumer_auto_offset_reset="latest")
    await transport.create_admin().create_topic(TopicSpec("t", 1))
    producer = await started_producer(transport)
    await fill(producer, "t", 0, 5)
    first = await member(transport, ["t"], [], "first")
    await first.commit({TP("t", 0): 1})
    await first.stop()
    second = await member(transport, ["t"], [], "second")
    assert offsets(await second.getmany(0), TP("t", 0)) == [1, 2, 3, 4]
    await second.stop()


async def test_none_without_a_committed_offset_is_an_error_naming_the_partition(
    make_transport: Callable[..., MemoryTransport],
) -> None:
    transport = make_transport(consumer_auto_offset_reset="none")
    await transport.create_admin().create_topic(TopicSpec("t", 2))
    producer = await started_producer(transport)
    await fill(producer, "t", 1, 3)
    consumer = await member(transport, ["t"], [], "c")
    with pytest.raises(NoOffsetForPartitionError, match=r"partition=0.*'none'"):
        await consumer.getmany(0)
    consumer.seek(TP("t", 0), 0)
    await consumer.commit({TP("t", 1): 2})
    # A commit after the assignment counts: the position is looked up when first needed.
    assert offsets(await consumer.getmany(0), TP("t", 1)) == [2]
    await consumer.stop()


async def test_a_position_past_the_end_is_reset(
    make_transport: Callable[..., MemoryTransport],
) -> None:
    for policy, expected in [("earliest", [0, 1, 2]), ("latest", [])]:
        transport = make_transport(consumer_auto_offset_reset=policy)
        await transport.create_admin().create_topic(TopicSpec(f"t-{policy}", 1))
        tp = TP(f"t-{policy}", 0)
        producer = await started_producer(transport)
        await fill(producer, tp.topic, 0, 3)
        consumer = await member(transport, [tp.topic], [], "c", group=policy)
        await consumer.getmany(0)
        consumer.seek(tp, 10)
        assert offsets(await consumer.getmany(0), tp) == expected, policy
        await consumer.stop()

    transport = make_transport(consumer_auto_offset_reset="none")
    producer = await started_producer(transport)
    await fill(producer, "n", 0, 3)
    consumer = await member(transport, ["n"], [], "c", group="none")
    consumer.seek(TP("n", 0), 10)
    with pytest.raises(NoOffsetForPartitionError, match=r"partition=0.*offset 10 is out of range"):
        await consumer.getmany(0)
    await consumer.stop()


async def test_operations_on_unassigned_partitions_are_errors_naming_them(
    make_transport: Callable[..., MemoryTransport],
) -> None:
    transport = make_transport()
    await transport.create_admin().create_topic(TopicSpec("t", 2))
    consumer = await member(transport, ["t"], [], "c")
    stranger = TP("other", 3)
    with pytest.raises(PartitionNotAssignedError, match=r"commit \('other', 3\).*'c'"):
        await consumer.commit({TP("t", 0): 1, stranger: 1})
    assert await consumer.committed(TP("t", 0)) is None, "a refused commit stored nothing"
    for action, call in [
        ("seek", lambda: consumer.seek(stranger, 0)),
        ("pause", lambda: consumer.pause([stranger])),
        ("resume", lambda: consumer.resume([stranger])),
    ]:
        with pytest.raises(PartitionNotAssignedError, match=rf"{action} \('other', 3\)"):
            call()
    with pytest.raises(ValueError, match="int >= 0"):
        await consumer.commit({TP("t", 0): -1})
    with pytest.raises(ValueError, match="int >= 0"):
        consumer.seek(TP("t", 0), -1)
    with pytest.raises(TransportError, match=r"no topic 'nope'"):
        await consumer.end_offsets([TP("nope", 0)])
    with pytest.raises(TransportError, match=r"partition=5"):
        await consumer.beginning_offsets([TP("t", 5)])
    await consumer.stop()
    with pytest.raises(TransportError, match="not started"):
        await consumer.commit({TP("t", 0): 1})


# -- groups ------------------------------------------------------------------------------------


async def test_the_revoke_listener_can_commit_for_the_next_owner(
    make_transport: Callable[..., MemoryTransport],
) -> None:
    transport = make_transport()
    await transport.create_admin().create_topic(TopicSpec("t", 1))
    producer = await started_producer(transport)
    await fill(producer, "t", 0, 5)
    tp = TP("t", 0)

    class CommittingListener(RecordingListener):
        consumer: MemoryConsumer

        async def on_partitions_revoked(self, revoked: set[TP]) -> None:
            await super().on_partitions_revoked(revoked)
            position = await self.consumer.position(tp)
            if tp in revoked and position is not None:
                await self.consumer.commit({tp: position})

    events: Events = []
    first = transport.create_consumer(group_id="g", client_id="first")
    listener = CommittingListener("first", events)
    listener.consumer = first
    first.subscribe(["t"], listener)
    await first.start()
    assert offsets(await first.getmany(0), tp) == [0, 1, 2, 3, 4]
    await fill(producer, "t", 0, 2)
    await first.stop()
    assert await first.committed(tp) == 5
    second = await member(make_transport(), ["t"], events, "second")
    assert offsets(await second.getmany(0), tp) == [5, 6]
    await second.stop()


async def test_revokes_of_every_member_come_before_any_assignment(
    make_transport: Callable[..., MemoryTransport],
) -> None:
    events: Events = []
    transport = make_transport()
    await transport.create_admin().create_topic(TopicSpec("t", 6))
    a = await member(transport, ["t"], events, "a")
    b = await member(make_transport(), ["t"], events, "b")
    events.clear()
    c = await member(make_transport(), ["t"], events, "c")
    kinds = [kind for _, kind, _ in events]
    assert kinds == ["revoked", "revoked", "assigned", "assigned", "assigned"], events
    assert {name for name, kind, _ in events if kind == "revoked"} == {"a", "b"}
    # Sticky: a and b keep what they had, within their share; c gets the rest.
    assert [c.assignment(), a.assignment(), b.assignment()] == [
        {TP("t", 2), TP("t", 5)},
        {TP("t", 0), TP("t", 1)},
        {TP("t", 3), TP("t", 4)},
    ]
    for consumer in (a, b, c):
        await consumer.stop()
    assert consumer.assignment() == set()


async def test_partition_state_is_reset_by_a_rebalance(
    make_transport: Callable[..., MemoryTransport],
) -> None:
    transport = make_transport()
    await transport.create_admin().create_topic(TopicSpec("t", 2))
    producer = await started_producer(transport)
    await fill(producer, "t", 0, 3)
    a = await member(transport, ["t"], [], "a")
    a.pause([TP("t", 0)])
    a.seek(TP("t", 1), 7)
    b = await member(make_transport(), ["t"], [], "b")
    assert a.assignment() == {TP("t", 0)}
    assert a.paused() == set()
    assert offsets(await a.getmany(0), TP("t", 0)) == [0, 1, 2]
    assert await b.position(TP("t", 1)) == 0
    await a.stop()
    await b.stop()


async def test_a_subscription_change_rebalances(
    make_transport: Callable[..., MemoryTransport],
) -> None:
    events: Events = []
    transport = make_transport()
    admin = transport.create_admin()
    await admin.create_topic(TopicSpec("a", 2))
    await admin.create_topic(TopicSpec("b", 2))
    consumer = transport.create_consumer(group_id="g", client_id="c")
    listener = RecordingListener("c", events)
    consumer.subscribe(["a"], listener)
    await consumer.start()
    consumer.subscribe(["a"], listener)
    assert await consumer.getmany(0.01) == {}
    assert len(events) == 1, "subscribing to the same topics again does not rebalance"
    consumer.subscribe(["a", "b"], listener)
    await consumer.getmany(0.05)
    assert consumer.assignment() == {TP("a", 0), TP("a", 1), TP("b", 0), TP("b", 1)}
    assert [kind for _, kind, _ in events] == ["assigned", "revoked", "assigned"]
    consumer.subscribe([], listener)
    await consumer.getmany(0.05)
    assert consumer.assignment() == set()
    assert [kind for _, kind, _ in events][-1] == "revoked"
    with pytest.raises(TypeError, match="not the str"):
        consumer.subscribe("a", listener)
    await consumer.stop()


async def test_members_with_different_subscriptions(
    make_transport: Callable[..., MemoryTransport],
) -> None:
    transport = make_transport()
    admin = transport.create_admin()
    await admin.create_topic(TopicSpec("shared", 2))
    await admin.create_topic(TopicSpec("own", 3))
    await admin.create_topic(TopicSpec("short", 1))
    one = await member(transport, ["shared"], [], "one")
    two = await member(make_transport(), ["shared", "own", "short"], [], "two")
    assert one.assignment() == {TP("shared", 0)}
    assert two.assignment() == {
        TP("shared", 1),
        TP("own", 0),
        TP("own", 1),
        TP("own", 2),
        TP("short", 0),
    }
    await one.stop()
    await two.stop()


async def test_a_listener_error_is_raised_by_the_members_next_getmany(
    make_transport: Callable[..., MemoryTransport],
) -> None:
    class Failing(RecordingListener):
        async def on_partitions_assigned(self, assigned: set[TP]) -> None:
            await super().on_partitions_assigned(assigned)
            raise RuntimeError("boom in assigned")

    transport = make_transport()
    producer = await started_producer(transport)
    await fill(producer, "t", 0, 1)
    events: Events = []
    consumer = transport.create_consumer(group_id="g", client_id="c")
    consumer.subscribe(["t"], Failing("c", events))
    await consumer.start()
    with pytest.raises(RuntimeError, match="boom in assigned"):
        await consumer.getmany(0)
    assert offsets(await consumer.getmany(0), TP("t", 0)) == [0], "the error is raised once"
    other = await member(make_transport(), ["t"], events, "other")
    with pytest.raises(RuntimeError, match="boom in assigned"):
        await consumer.stop()
    await other.stop()


# -- the contract catches broken transports ------------------------------------------------------


async def test_the_contract_catches_lost_headers(
    make_transport: Callable[..., MemoryTransport], monkeypatch: pytest.MonkeyPatch
) -> None:
    original = MemoryProducer.send

    async def send(self: MemoryProducer, record: ProducerRecord) -> object:
        record.headers = ()
        return await original(self, record)

    monkeypatch.setattr(MemoryProducer, "send", send)
    contract = TestMemoryTransport()
    with pytest.raises(AssertionError, match="headers"):
        await contract.test_produced_records_are_consumed_in_order_with_everything_kept(
            make_transport, "t", "g"
        )


async def test_the_contract_catches_an_assignment_that_splits_co_partitioned_topics(
    make_transport: Callable[..., MemoryTransport], monkeypatch: pytest.MonkeyPatch
) -> None:
    def plan(self: Group, members: list[MemoryConsumer]) -> dict[MemoryConsumer, Any]:
        result: dict[MemoryConsumer, set[TP]] = {m: set() for m in members}
        for index, name in enumerate(sorted({t for m in members for t in m._topics})):
            for partition in range(len(self.broker.topics[name].logs)):
                result[members[(partition + index) % len(members)]].add(TP(name, partition))
        return {m: Assignment(active=tps) for m, tps in result.items()}

    monkeypatch.setattr(Group, "_plan", plan)
    with pytest.raises(AssertionError, match="same member"):
        await TestMemoryTransport().test_members_of_a_group_split_co_partitioned_topics(
            make_transport, "t", "g"
        )


async def test_the_contract_catches_a_pause_that_does_not_pause(
    make_transport: Callable[..., MemoryTransport], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(MemoryConsumer, "pause", lambda self, tps: None)
    with pytest.raises(AssertionError, match="paused partition"):
        await TestMemoryTransport().test_pause_and_resume(make_transport, "t", "g")


async def test_the_contract_catches_a_commit_that_is_not_kept(
    make_transport: Callable[..., MemoryTransport], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def commit(self: MemoryConsumer, offsets: object) -> None:
        return None

    monkeypatch.setattr(MemoryConsumer, "commit", commit)
    with pytest.raises(AssertionError):
        await TestMemoryTransport().test_the_next_member_resumes_from_the_committed_offset(
            make_transport, "t", "g"
        )


async def test_the_contract_catches_assignment_before_revocation(
    make_transport: Callable[..., MemoryTransport], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def rebalance_once(self: Group) -> None:
        members = list(self.members)
        plan = self._plan(members)
        for m in members:
            m._set_assignment(plan[m].active)
        for m in members:
            await m._assigned(plan[m].active)

    monkeypatch.setattr(Group, "_rebalance_once", rebalance_once)
    with pytest.raises(AssertionError):
        await TestMemoryTransport().test_members_of_a_group_split_co_partitioned_topics(
            make_transport, "t", "g"
        )
