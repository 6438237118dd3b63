"""strm's :class:`~strm.kernel.spi.Message` made where aiokafka unpacks a fetched record.

aiokafka makes a ``ConsumerRecord`` of each record it hands out, and strm then made a
``Message`` of each ``ConsumerRecord``: two objects and two passes per record (their cost is
in bench/README.md, "One Message per record"). aiokafka has no public hook for the type of the
records it returns, so :func:`make_messages_directly` reaches into *one* client's fetcher: the
fetched partitions it stores from then on unpack their records with :class:`MessageRecords`, a
subclass of aiokafka's ``PartitionRecords`` that makes a ``Message``. aiokafka's own classes
are left alone, so any other ``AIOKafkaConsumer`` of the process (a user's, the benchmarks' raw
loop) still gets ``ConsumerRecord`` objects.

What it relies on: the fetcher at ``client._fetcher``, its fetched partitions in the
``OrderedDict`` at ``_records``, each a ``FetchResult`` holding its ``PartitionRecords`` at
``_partition_records``, which calls ``self._consumer_record(tp, record)`` per record (aiokafka
0.14). Where an aiokafka release differs, :func:`make_messages_directly` says no, or the
records stay ``ConsumerRecord`` objects, and :func:`as_messages` converts them per batch as
before: slower, never wrong. ``tests/test_kafka_fetched.py`` fails when the direct path is not
taken with the installed aiokafka.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from aiokafka.consumer import fetcher as aiokafka_fetcher  # type: ignore[import-untyped]
from strm.kernel.spi import Message

PartitionRecords: type[Any] | None = getattr(aiokafka_fetcher, "PartitionRecords", None)


def _unpacks_per_record(cls: type[Any] | None) -> bool:
    return cls is not None and callable(getattr(cls, "_consumer_record", None))


if _unpacks_per_record(PartitionRecords):

    class MessageRecords(PartitionRecords):  # type: ignore[misc,valid-type]
        """aiokafka's unpacking of a fetched partition, making a ``Message`` per record."""

        def _consumer_record(self, tp: Any, record: Any) -> Message:
            headers = record.headers
            return Message(
                tp.topic,
                tp.partition,
                record.offset,
                record.timestamp / 1000.0,
                record.key,
                record.value,
                tuple(headers) if headers else (),
            )

    class FetchedPartitions(OrderedDict[Any, Any]):
        """The fetcher's fetched partitions: each one stored is made to unpack ``Message``
        objects before any of its records is unpacked."""

        def __setitem__(self, tp: Any, result: Any) -> None:
            records = getattr(result, "_partition_records", None)
            if type(records) is PartitionRecords:
                records.__class__ = MessageRecords
            super().__setitem__(tp, result)


def make_messages_directly(client: Any) -> bool:
    """Make the started ``client`` (an ``AIOKafkaConsumer``) return ``Message`` objects from
    ``getmany``; ``False`` (and nothing changed) where its aiokafka is not as expected, or
    where it decodes keys or values itself (it is given no deserializers by strm)."""
    fetcher: Any = getattr(client, "_fetcher", None)
    fetched = getattr(fetcher, "_records", None)
    if not _unpacks_per_record(PartitionRecords) or type(fetched) is not OrderedDict:
        return False
    if getattr(fetcher, "_key_deserializer", None) or getattr(fetcher, "_value_deserializer", None):
        return False
    direct = FetchedPartitions()
    for tp, result in fetched.items():  # fetched while starting: from their next record
        direct[tp] = result
    fetcher._records = direct
    return True


def as_messages(topic: str, partition: int, records: list[Any]) -> list[Message]:
    """``records`` of one partition as returned by ``getmany``: already ``Message`` objects
    (:func:`make_messages_directly`), or aiokafka's ``ConsumerRecord`` objects, converted."""
    if not records or type(records[0]) is Message:
        return records
    return [
        Message(
            topic,
            partition,
            record.offset,
            record.timestamp / 1000.0,
            record.key,
            record.value,
            record.headers,
        )
        for record in records
    ]
