"""The contract every transport meets: :class:`strm.kernel.spi.Transport` with its consumer,
producer and admin.

:class:`TransportContract` asks for a ``transport_factory`` fixture: a function that returns a
new :class:`strm.kernel.spi.Transport` connected to one broker (or namespace) that is fresh for the
test; the suite calls it several times in one test, one transport per group member, as separate apps
would. Build each with a context of its own from :func:`strm.testing.contexts.transport_context`
(no app needed); keep the default settings (``consumer_auto_offset_reset='earliest'``).
Topic names and group ids come from the ``topic_name`` and ``group_id`` fixtures, unique per test
unless overridden.

Only the :mod:`strm.kernel.spi` methods are used and every wait is bounded by :attr:`timeout`, so a
networked broker can run the suite too: raise :attr:`timeout` where rebalances take seconds.
The tests are ``async`` and need ``pytest-asyncio``::

    from strm.testing.contexts import transport_context

    class TestMyTransport(TransportContract):
        @pytest.fixture
        def transport_factory(self):
            urls = ["mine://localhost"]
            return lambda: MyTransport(context=transport_context(), urls=urls)
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence

import pytest

from strm.kernel.spi import (
    TP,
    Admin,
    Consumer,
    Headers,
    Producer,
    ProducerRecord,
    RecordMetadata,
    TopicSpec,
    Transport,
)
from strm.kernel.transports import RecordTooLargeError
from strm.testing.contracts.transport_clients import (
    Clients,
    Reader,
    RecordingListener,
    TransportFactory,
)


class TransportContract:
    """Behaviour every transport must have, whatever carries the records."""

    #: Longest wait, in seconds, for any one expected state (records, an assignment).
    timeout: float = 10.0
    #: The timeout of each ``getmany`` while waiting.
    poll_timeout: float = 0.05
    #: How long records that must not arrive (paused partitions) are waited for.
    quiet_period: float = 0.3

    @pytest.fixture
    def transport_factory(self) -> TransportFactory:
        raise NotImplementedError(
            "subclass TransportContract and define a 'transport_factory' fixture returning a "
            "function that makes a Transport on a broker that is fresh for the test"
        )

    @pytest.fixture
    def topic_name(self) -> str:
        return f"strm-contract-{uuid.uuid4().hex[:12]}"

    @pytest.fixture
    def group_id(self) -> str:
        return f"strm-contract-group-{uuid.uuid4().hex[:12]}"

    # -- helpers ---------------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def clients(
        self, transport_factory: TransportFactory, group_id: str
    ) -> AsyncIterator[Clients]:
        """The test's clients, stopped at the end; when the test failed, its failure is the one
        reported, not a failure to stop."""
        clients = Clients(transport_factory, group_id)
        try:
            yield clients
        except BaseException:
            with contextlib.suppress(Exception):
                await clients.close()
            raise
        await clients.close()

    async def until(
        self, condition: Callable[[], bool], readers: Sequence[Reader], what: str
    ) -> None:
        """Poll ``readers`` until ``condition()`` holds; fail after :attr:`timeout`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        while not condition():
            if loop.time() > deadline:
                raise AssertionError(f"waited {self.timeout} s for {what}")
            if readers:
                for reader in readers:
                    await reader.poll(self.poll_timeout)
            else:
                await asyncio.sleep(self.poll_timeout)

    async def create(self, clients: Clients, name: str, partitions: int) -> list[TP]:
        created = await clients.admin().create_topic(TopicSpec(name, partitions))
        assert created is True, f"create_topic({name!r}) of a new topic returned {created!r}"
        return [TP(name, partition) for partition in range(partitions)]

    async def send(
        self, producer: Producer, tp: TP, count: int, prefix: str = "v"
    ) -> list[RecordMetadata]:
        pending = [
            await producer.send(
                ProducerRecord(tp.topic, tp.partition, b"k%d" % i, f"{prefix}{i}".encode())
            )
            for i in range(count)
        ]
        await producer.flush()
        return [await done for done in pending]

    # -- admin -----------------------------------------------------------------------------------

    def test_implements_the_protocols(self, transport_factory: TransportFactory) -> None:
        transport = transport_factory()
        assert isinstance(transport, Transport)
        assert isinstance(transport.create_consumer(group_id="g", client_id="c"), Consumer)
        assert isinstance(transport.create_producer(client_id="p"), Producer)
        assert isinstance(transport.create_admin(), Admin)

    async def test_create_topic_and_partition_count(
        self, transport_factory: TransportFactory, topic_name: str, group_id: str
    ) -> None:
        async with self.clients(transport_factory, group_id) as clients:
            admin = clients.admin()
            assert await admin.partition_count(topic_name) is None
            assert await admin.create_topic(TopicSpec(topic_name, 3)) is True
            assert await admin.create_topic(TopicSpec(topic_name, 3)) is False
            assert await admin.partition_count(topic_name) == 3
            assert await admin.partition_count(f"{topic_name}-missing") is None
            producer = await clients.producer()
            assert await producer.partitions_for(topic_name) == 3

    # -- producing and consuming -----------------------------------------------------------------

    async def test_produced_records_are_consumed_in_order_with_everything_kept(
        self, transport_factory: TransportFactory, topic_name: str, group_id: str
    ) -> None:
        async with self.clients(transport_factory, group_id) as clients:
            tp0, tp1, tp2 = await self.create(clients, topic_name, 3)
            producer = await clients.producer()
            # (partition, key, value, timestamp, headers), kept apart from the records sent
            # so that a transport changing a record it was given cannot hide the change.
            rows: list[tuple[int, bytes | None, bytes | None, float | None, Headers]] = [
                (0, b"a", b"1", 1_700_000_000.125, [("h", b"x")]),
                (2, None, b"2", 1_700_000_001.5, []),
                (0, b"b", None, 1_700_000_002.0, [("h", b"\x00\xff")]),
                (0, b"", b"", 1_700_000_003.0, [("a", b""), ("a", b"")]),
                (2, b"c", b"4", None, []),
            ]
            before = time.time()
            pending = [
                await producer.send(
                    ProducerRecord(topic_name, p, key, value, timestamp, list(headers))
                )
                for p, key, value, timestamp, headers in rows
            ]
            await producer.flush()
            metadata = [await done for done in pending]
            after = time.time()

            assert [(m.topic, m.partition, m.offset) for m in metadata] == [
                (topic_name, 0, 0),
                (topic_name, 2, 0),
                (topic_name, 0, 1),
                (topic_name, 0, 2),
                (topic_name, 2, 1),
            ]
            assert [m.tp for m in metadata] == [tp0, tp2, tp0, tp0, tp2]
            assert metadata[0].timestamp == pytest.approx(rows[0][3], abs=0.002)

            reader = await clients.reader([topic_name], "reader")
            await self.until(lambda: reader.count() >= len(rows), [reader], "5 records")
            assert reader.count() == len(rows)
            assert set(reader.received) == {tp0, tp2}
            assert tp1 not in reader.received
            assert reader.offsets(tp0) == [0, 1, 2]
            assert reader.offsets(tp2) == [0, 1]
            got = reader.received[tp0] + reader.received[tp2]
            want = [rows[0], rows[2], rows[3], rows[1], rows[4]]
            for message, (p, key, value, timestamp, headers) in zip(got, want, strict=True):
                assert (message.topic, message.partition) == (topic_name, p)
                assert (message.key, message.value) == (key, value)
                assert [tuple(h) for h in message.headers] == headers, message
                if timestamp is None:
                    assert before - 1 <= message.timestamp <= after + 1
                else:
                    assert message.timestamp == pytest.approx(timestamp, abs=0.002)

    async def test_a_record_over_producer_max_request_size_is_refused_and_not_written(
        self, transport_factory: TransportFactory, topic_name: str, group_id: str
    ) -> None:
        """``RecordTooLargeError`` whatever the transport, so that the dead-letter path can
        tell "too large" (cut the value and send again) from any other failure."""
        async with self.clients(transport_factory, group_id) as clients:
            (tp,) = await self.create(clients, topic_name, 1)
            producer = await clients.producer()
            # A value of 1_000_000 bytes, with the record's framing, is over the default
            # producer_max_request_size (1_000_000) that the contract's apps keep.
            with pytest.raises(RecordTooLargeError, match=re.escape(f"{tp.topic}[0]")):
                delivery = await producer.send(
                    ProducerRecord(tp.topic, 0, b"k", b"x" * 1_000_000, None, [])
                )
                await delivery
            (sent,) = await self.send(producer, tp, 1)
            assert sent.offset == 0, "the refused record took an offset"

    async def test_records_sent_while_a_consumer_waits_reach_it(
        self, transport_factory: TransportFactory, topic_name: str, group_id: str
    ) -> None:
        async with self.clients(transport_factory, group_id) as clients:
            (tp,) = await self.create(clients, topic_name, 1)
            producer = await clients.producer()
            reader = await clients.reader([topic_name], "reader")
            await self.until(lambda: reader.consumer.assignment() == {tp}, [reader], "assignment")
            await self.send(producer, tp, 3)
            await self.until(lambda: reader.count() >= 3, [reader], "3 records")
            assert reader.offsets(tp) == [0, 1, 2]

    # -- offsets ---------------------------------------------------------------------------------

    async def test_start_returns_after_the_listener_handled_the_first_assignment(
        self, transport_factory: TransportFactory, topic_name: str, group_id: str
    ) -> None:
        """The app's start relies on it: tables begin their recovery in the listener."""
        async with self.clients(transport_factory, group_id) as clients:
            tps = await self.create(clients, topic_name, 2)
            handled: list[frozenset[TP]] = []

            class SlowListener:
                async def on_partitions_revoked(self, revoked: set[TP]) -> None:
                    pass

                async def on_partitions_assigned(self, assigned: set[TP]) -> None:
                    await asyncio.sleep(0.2)  # the listener awaits (an admin call, a store)
                    handled.append(frozenset(assigned))

            consumer = clients.transport.create_consumer(group_id=group_id, client_id="slow")
            consumer.subscribe([topic_name], SlowListener())
            clients._consumers.append(consumer)
            await consumer.start()
            assert handled == [frozenset(tps)]

    async def test_commit_and_committed(
        self, transport_factory: TransportFactory, topic_name: str, group_id: str
    ) -> None:
        async with self.clients(transport_factory, group_id) as clients:
            tp0, tp1 = await self.create(clients, topic_name, 2)
            producer = await clients.producer()
            await self.send(producer, tp0, 5)
            reader = await clients.reader([topic_name], "reader")
            await self.until(lambda: reader.count() >= 5, [reader], "5 records")
            consumer = reader.consumer
            assert await consumer.committed(tp0) is None
            await consumer.commit({tp0: 2})
            assert await consumer.committed(tp0) == 2
            await consumer.commit({tp0: 5, tp1: 0})
            assert await consumer.committed(tp0) == 5
            assert await consumer.committed(tp1) == 0

    async def test_the_next_member_resumes_from_the_committed_offset(
        self, transport_factory: TransportFactory, topic_name: str, group_id: str
    ) -> None:
        async with self.clients(transport_factory, group_id) as clients:
            (tp,) = await self.create(clients, topic_name, 1)
            producer = await clients.producer()
            await self.send(producer, tp, 5)
            first = await clients.reader([topic_name], "first")
            await self.until(lambda: first.count() >= 5, [first], "5 records")
            await first.consumer.commit({tp: 3})
            await clients.stop(first)

            second = await clients.reader([topic_name], "second", own_transport=True)
            await self.until(lambda: second.count() >= 2, [second], "2 records")
            assert second.offsets(tp) == [3, 4]
            assert [m.value for m in second.received[tp]] == [b"v3", b"v4"]
            assert await second.consumer.committed(tp) == 3

    async def test_seek(
        self, transport_factory: TransportFactory, topic_name: str, group_id: str
    ) -> None:
        async with self.clients(transport_factory, group_id) as clients:
            (tp,) = await self.create(clients, topic_name, 1)
            producer = await clients.producer()
            await self.send(producer, tp, 5)
            reader = await clients.reader([topic_name], "reader")
            await self.until(lambda: reader.count() >= 5, [reader], "5 records")
            for offset in (1, 4, 0):
                reader.received.clear()
                reader.consumer.seek(tp, offset)
                await self.until(reader.has(5 - offset), [reader], f"{5 - offset} records")
                assert reader.offsets(tp) == list(range(offset, 5)), f"after seek to {offset}"

    async def test_end_and_beginning_offsets(
        self, transport_factory: TransportFactory, topic_name: str, group_id: str
    ) -> None:
        async with self.clients(transport_factory, group_id) as clients:
            tp0, tp1 = await self.create(clients, topic_name, 2)
            producer = await clients.producer()
            await self.send(producer, tp0, 3)
            reader = await clients.reader([topic_name], "reader")
            consumer = reader.consumer
            assert await consumer.end_offsets([tp0, tp1]) == {tp0: 3, tp1: 0}
            assert await consumer.beginning_offsets([tp0, tp1]) == {tp0: 0, tp1: 0}
            await self.send(producer, tp1, 2)
            assert await consumer.end_offsets([tp1]) == {tp1: 2}

    # -- flow control ----------------------------------------------------------------------------

    async def test_pause_and_resume(
        self, transport_factory: TransportFactory, topic_name: str, group_id: str
    ) -> None:
        async with self.clients(transport_factory, group_id) as clients:
            tp0, tp1 = await self.create(clients, topic_name, 2)
            producer = await clients.producer()
            reader = await clients.reader([topic_name], "reader")
            consumer = reader.consumer
            await self.until(lambda: consumer.assignment() == {tp0, tp1}, [reader], "assignment")
            consumer.pause([tp0])
            await self.send(producer, tp0, 3)
            await self.send(producer, tp1, 3)
            await self.until(lambda: len(reader.offsets(tp1)) >= 3, [reader], "records of tp1")
            loop = asyncio.get_running_loop()
            quiet_until = loop.time() + self.quiet_period
            while loop.time() < quiet_until:
                await reader.poll(self.poll_timeout)
            assert reader.offsets(tp0) == [], "a paused partition's records were returned"
            assert consumer.assignment() == {tp0, tp1}, "pausing changed the assignment"

            consumer.resume([tp0])
            await self.until(lambda: len(reader.offsets(tp0)) >= 3, [reader], "records of tp0")
            assert reader.offsets(tp0) == [0, 1, 2]
            assert reader.offsets(tp1) == [0, 1, 2]

    async def test_max_records_bounds_a_fetch_and_is_shared_by_the_partitions(
        self, transport_factory: TransportFactory, topic_name: str, group_id: str
    ) -> None:
        """``getmany(timeout, max_records)`` returns at most ``max_records`` records in all,
        shared among the partitions: with a backlog on every partition, each partition's first
        record comes before any partition was read to its end (not one partition after the
        other, as a budget filled from the first partition's backlog would give)."""
        per_partition, budget = 300, 40
        async with self.clients(transport_factory, group_id) as clients:
            tps = await self.create(clients, topic_name, 4)
            producer = await clients.producer()
            for tp in tps:
                await self.send(producer, tp, per_partition)
            reader = await clients.reader([topic_name], "reader")
            consumer = reader.consumer
            with pytest.raises(ValueError, match="max_records"):
                await consumer.getmany(self.poll_timeout, max_records=0)
            first_at: dict[TP, int] = {}
            finished_at: int | None = None
            received = 0
            loop = asyncio.get_running_loop()
            deadline = loop.time() + self.timeout
            while received < per_partition * len(tps):
                assert loop.time() < deadline, f"waited {self.timeout} s for the records"
                batch = await consumer.getmany(self.poll_timeout, max_records=budget)
                count = sum(len(messages) for messages in batch.values())
                assert count <= budget, f"{count} records returned with max_records={budget}"
                for tp, messages in batch.items():
                    first_at.setdefault(tp, received)
                    reader.received.setdefault(tp, []).extend(messages)
                    if finished_at is None and len(reader.received[tp]) == per_partition:
                        finished_at = received + count
                received += count
            assert finished_at is not None
            assert set(first_at) == set(tps)
            assert max(first_at.values()) < finished_at, (first_at, finished_at)
            for tp in tps:
                assert reader.offsets(tp) == list(range(per_partition))

    # -- groups ----------------------------------------------------------------------------------

    async def test_members_of_a_group_split_co_partitioned_topics(
        self, transport_factory: TransportFactory, topic_name: str, group_id: str
    ) -> None:
        async with self.clients(transport_factory, group_id) as clients:
            orders = await self.create(clients, f"{topic_name}-orders", 4)
            payments = await self.create(clients, f"{topic_name}-payments", 4)
            everything = {*orders, *payments}
            topics = [f"{topic_name}-orders", f"{topic_name}-payments"]

            a = await clients.reader(topics, "a")
            await self.until(
                lambda: (
                    a.consumer.assignment() == everything
                    and a.listener.mine()[-1:] == [("assigned", frozenset(everything))]
                ),
                [a],
                "the first member to get every partition",
            )
            b = await clients.reader(topics, "b", own_transport=True)

            def settled() -> bool:
                mine_a, mine_b = a.consumer.assignment(), b.consumer.assignment()
                return (
                    bool(mine_a)
                    and bool(mine_b)
                    and mine_a | mine_b == everything
                    and not mine_a & mine_b
                    and a.listener.mine()[-1:] == [("assigned", frozenset(mine_a))]
                    and b.listener.mine()[-1:] == [("assigned", frozenset(mine_b))]
                )

            await self.until(settled, [a, b], "both members to share the partitions")
            for reader in (a, b):
                mine = reader.consumer.assignment()
                by_topic = [{tp.partition for tp in mine if tp.topic == t} for t in topics]
                assert by_topic[0] == by_topic[1], (
                    f"{reader.name} got {sorted(mine)}: partition p of every topic must go to "
                    "the same member"
                )

            events = clients.events
            revoked_all = next(
                (
                    i
                    for i, event in enumerate(events)
                    if event == ("a", "revoked", frozenset(everything))
                ),
                None,
            )
            assert revoked_all is not None, f"a was not told its partitions were revoked: {events}"
            a_after = [kind for name, kind, _ in events[revoked_all:] if name == "a"]
            assert a_after[-1] == "assigned", events
            b_assigned = next(
                i
                for i, (name, kind, tps) in enumerate(events)
                if name == "b" and kind == "assigned" and tps
            )
            assert revoked_all < b_assigned, (
                f"a's partitions went to b before a's on_partitions_revoked: {events}"
            )

            await clients.stop(b)
            await self.until(
                lambda: (
                    a.consumer.assignment() == everything
                    and a.listener.mine()[-1:] == [("assigned", frozenset(everything))]
                ),
                [a],
                "the remaining member to get every partition back",
            )
            kinds = [kind for kind, _ in a.listener.mine()]
            assert kinds.count("revoked") >= 2, f"a was not told of the second rebalance: {events}"

    async def test_consumers_in_different_groups_each_read_everything(
        self, transport_factory: TransportFactory, topic_name: str, group_id: str
    ) -> None:
        async with self.clients(transport_factory, group_id) as clients:
            tp0, tp1 = await self.create(clients, topic_name, 2)
            producer = await clients.producer()
            await self.send(producer, tp0, 3)
            await self.send(producer, tp1, 2)
            one = await clients.reader([topic_name], "one", group_id=f"{group_id}-1")
            two = await clients.reader(
                [topic_name], "two", group_id=f"{group_id}-2", own_transport=True
            )
            await self.until(
                lambda: one.count() >= 5 and two.count() >= 5, [one, two], "5 records each"
            )
            for reader in (one, two):
                assert reader.consumer.assignment() == {tp0, tp1}
                assert reader.offsets(tp0) == [0, 1, 2]
                assert reader.offsets(tp1) == [0, 1]

    async def test_a_pattern_subscription_takes_in_topics_created_later(
        self, transport_factory: TransportFactory, topic_name: str, group_id: str
    ) -> None:
        async with self.clients(transport_factory, group_id) as clients:
            (first,) = await self.create(clients, f"{topic_name}-a", 1)
            await self.create(clients, f"other-{topic_name}", 1)
            producer = await clients.producer()
            await self.send(producer, first, 2)
            reader = await clients.reader([], "pattern", pattern=f"{re.escape(topic_name)}-.*")
            await self.until(lambda: reader.count() >= 2, [reader], "2 records of the first topic")
            (later,) = await self.create(clients, f"{topic_name}-b", 1)
            await self.send(producer, later, 3)
            await self.until(lambda: reader.count() >= 5, [reader], "3 records of a later topic")
            assert reader.consumer.assignment() == {first, later}
            assert reader.offsets(later) == [0, 1, 2]


__all__ = ["Clients", "Reader", "RecordingListener", "TransportContract", "TransportFactory"]
