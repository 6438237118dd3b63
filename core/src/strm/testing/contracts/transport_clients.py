"""The clients a transport contract test drives: a group member's reader with the rebalances it
saw, and the producers and consumers of one test, closed together at its end
(:mod:`strm.testing.contracts.transport`)."""

from __future__ import annotations

from collections.abc import Callable, Collection

from strm.kernel.spi import (
    TP,
    Admin,
    Consumer,
    Message,
    Producer,
    Transport,
)

TransportFactory = Callable[[], Transport]
Event = tuple[str, str, frozenset[TP]]


class RecordingListener:
    """A rebalance listener that appends ``(member, 'revoked' | 'assigned', tps)`` to a list
    shared by the members of a test, so the order across members can be checked."""

    def __init__(self, name: str, events: list[Event]) -> None:
        self.name = name
        self.events = events

    async def on_partitions_revoked(self, revoked: set[TP]) -> None:
        self.events.append((self.name, "revoked", frozenset(revoked)))

    async def on_partitions_assigned(self, assigned: set[TP]) -> None:
        self.events.append((self.name, "assigned", frozenset(assigned)))

    def mine(self) -> list[tuple[str, frozenset[TP]]]:
        return [(kind, tps) for name, kind, tps in self.events if name == self.name]


class Reader:
    """A consumer and every message it has fetched, by partition."""

    def __init__(self, name: str, consumer: Consumer, listener: RecordingListener) -> None:
        self.name = name
        self.consumer = consumer
        self.listener = listener
        self.received: dict[TP, list[Message]] = {}

    async def poll(self, timeout: float) -> None:
        batch = await self.consumer.getmany(timeout)
        for tp, messages in batch.items():
            for message in messages:
                assert message.tp == tp, f"{message!r} was returned under {tp}"
            self.received.setdefault(tp, []).extend(messages)

    def count(self) -> int:
        return sum(len(messages) for messages in self.received.values())

    def has(self, count: int) -> Callable[[], bool]:
        """A condition for :meth:`TransportContract.until`: ``count`` messages received."""
        return lambda: self.count() >= count

    def offsets(self, tp: TP) -> list[int]:
        return [message.offset for message in self.received.get(tp, [])]


class Clients:
    """The clients one test opens, all stopped at the end of the test (consumers first)."""

    def __init__(self, factory: TransportFactory, group_id: str) -> None:
        self.factory = factory
        self.group_id = group_id
        self.transport = factory()
        self.events: list[Event] = []
        self._consumers: list[Consumer] = []
        self._producers: list[Producer] = []

    def admin(self) -> Admin:
        return self.transport.create_admin()

    async def producer(self) -> Producer:
        producer = self.transport.create_producer(client_id="contract-producer")
        await producer.start()
        self._producers.append(producer)
        return producer

    async def reader(
        self,
        topics: Collection[str],
        name: str,
        *,
        group_id: str | None = None,
        own_transport: bool = False,
        pattern: str | None = None,
    ) -> Reader:
        """A started consumer subscribed to ``topics`` (and ``pattern``); ``own_transport``
        gives it a transport of its own, as a member in another app would have."""
        transport = self.factory() if own_transport else self.transport
        consumer = transport.create_consumer(
            group_id=self.group_id if group_id is None else group_id, client_id=name
        )
        listener = RecordingListener(name, self.events)
        consumer.subscribe(topics, listener, pattern)
        self._consumers.append(consumer)
        await consumer.start()
        return Reader(name, consumer, listener)

    async def stop(self, reader: Reader) -> None:
        self._consumers.remove(reader.consumer)
        await reader.consumer.stop()

    async def close(self) -> None:
        errors: list[BaseException] = []
        clients: list[Consumer | Producer] = [*reversed(self._consumers)]
        clients += reversed(self._producers)
        for client in clients:
            try:
                await client.stop()
            except Exception as exc:
                errors.append(exc)
        if errors:
            raise errors[0]
