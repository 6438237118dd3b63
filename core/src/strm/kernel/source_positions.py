"""Source positions of repartitioned records: how a table skips a copy it already holds.

``group_by`` forwards each record to a repartition topic. Under at-least-once, a worker that
dies before committing its source offsets leaves the next owner to forward those records
again: the copies are new records of the repartition topic, which offsets alone cannot tell
from the originals. So each forwarded record carries, in a header, the position (topic,
partition, offset) of the record it was made from. A source partition's records reach each
repartition partition in their order, so a record whose source offset is not above the highest
one already processed from that source partition is a copy, and the stream skips it.

The highest positions are part of each checkpoint's snapshot: a seal records them with the
source offsets (under a topic name of their own, see :func:`seal_key`), the stores keep them,
and recovery restores them from the stores, so a copy is recognised after a restart too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from strm.kernel.spi import TP, Headers, Message

HEADER = "strm-source"
#: Separates the repartition topic from the source topic in the names positions are kept under.
SEPARATOR = "<-"


def position_of(message: Message) -> bytes:
    return f"{message.topic}|{message.partition}|{message.offset}".encode()


def with_position(headers: Headers, message: Message) -> list[tuple[str, bytes]]:
    """``headers`` with the source position of ``message``, replacing one it carried (a record
    repartitioned twice names the record its last hop read)."""
    position = (HEADER, f"{message.topic}|{message.partition}|{message.offset}".encode())
    if not headers:
        return [position]
    return [*(h for h in headers if h[0] != HEADER), position]


def seal_key(repartition_topic: str, source: TP) -> TP:
    """The name a source partition's highest position is kept under in seals and stores,
    apart from the offsets of the topics read directly."""
    return TP(f"{repartition_topic}{SEPARATOR}{source.topic}", source.partition)


class SourcePositions:
    """For one repartition topic a stream reads: the highest source offset processed, by
    repartition partition and source partition."""

    __slots__ = ("_held", "sources", "topic")

    def __init__(self, topic: str, sources: Iterable[str]) -> None:
        self.topic = topic
        #: The topics whose records are forwarded into ``topic``.
        self.sources = tuple(sources)
        self._held: dict[int, dict[bytes, int]] = {}

    def is_copy(self, message: Message) -> bool:
        """Whether ``message`` is a copy of a record already processed; if not, it counts as
        processed from now on."""
        position = None
        for name, value in message.headers:
            if name == HEADER:
                position = value
        if position is None:
            return False
        source, _, offset_text = position.rpartition(b"|")
        offset = int(offset_text)
        held = self._held.get(message.partition)
        if held is None:
            held = self._held[message.partition] = {}
        if offset <= held.get(source, -1):
            return True
        held[source] = offset
        return False

    def partitions(self) -> list[int]:
        return list(self._held)

    def snapshot(self, partition: int) -> dict[TP, int]:
        """The positions of ``partition`` as a seal keeps them: the next source offset."""
        positions: dict[TP, int] = {}
        for source, offset in self._held.get(partition, {}).items():
            topic, _, number = source.decode().rpartition("|")
            positions[seal_key(self.topic, TP(topic, int(number)))] = offset + 1
        return positions

    def restore(self, partition: int, processed: Mapping[TP, int]) -> None:
        """Start ``partition`` from the last source offset processed, by source partition
        (what the tables' stores hold for it)."""
        self._held[partition] = {
            f"{source.topic}|{source.partition}".encode(): offset
            for source, offset in processed.items()
        }

    def forget(self, partitions: Iterable[int]) -> None:
        for partition in partitions:
            self._held.pop(partition, None)
