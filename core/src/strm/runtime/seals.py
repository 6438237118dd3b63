"""Checkpoint seals: how a reader of a table's changelog knows which records a checkpoint
finished writing.

A checkpoint first writes the changed keys of each table partition to its changelog and waits
until everything it sent (those records and what the agents produced) is on the broker. Then it
appends one *seal* to the changelog partition of every table partition it covers, holding the
source offsets those changes account for. A partition's records are appended in order, so a
seal that was read proves that every record of its checkpoint before it is there too.

Readers (recovery, standby replicas) apply changelog records only up to the last seal they have
read: records after it belong to a checkpoint that did not finish, whose source records are
processed again by the next owner. Seals share one key, so a compacted changelog keeps the last.
See docs/architecture.md, "Checkpoints".
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from strm.kernel.spi import TP, Message

#: The key of every seal record. No table key serializes to it: tables' keys are encoded by
#: their codecs, and none produces a leading NUL followed by this text.
SEAL_KEY = b"\x00strm.checkpoint-seal\x00"


def encode_seal(sources: Mapping[TP, int]) -> bytes:
    """The seal's value: the next source offset to process, by source partition."""
    return json.dumps([[tp.topic, tp.partition, offset] for tp, offset in sources.items()]).encode()


def decode_seal(value: bytes | None) -> dict[TP, int]:
    if not value:
        return {}
    return {TP(topic, partition): offset for topic, partition, offset in json.loads(value)}


class SealedBatch:
    """Records a reader may apply: everything up to and including a seal."""

    __slots__ = ("records", "seal", "sources")

    def __init__(self, records: list[Message], seal: Message) -> None:
        self.records = records
        self.seal = seal
        self.sources = decode_seal(seal.value)

    def puts(self) -> dict[bytes, bytes | None]:
        """The store writes of the sealed records (the last value of each key)."""
        return {
            message.key: message.value
            for message in self.records
            if message.key is not None and message.key != SEAL_KEY
        }

    def table_records(self) -> list[Message]:
        return [message for message in self.records if message.key != SEAL_KEY]


class ChangelogReader(Protocol):
    """What the reader asks of a table: whether its callback wants every changelog record."""

    on_changelog_event: Any


class SealedReader:
    """For each changelog partition, the records read since its last seal.

    Until its seal comes, a record only waits to be written, and the store keeps the last
    value of each key: so for a table without ``on_changelog_event`` (Faust's callback, which
    sees every record) only the last record of each key waits. What waits is then bounded by
    the table's keys, not by the changelog's length (a changelog whose last seal is far ahead,
    or one without seals yet). ``tables``: the tables by changelog topic."""

    def __init__(self, tables: Mapping[str, ChangelogReader] | None = None) -> None:
        self._tables: Mapping[str, ChangelogReader] = {} if tables is None else tables
        self._unsealed: dict[TP, list[Message] | dict[bytes | None, Message]] = {}

    def read(self, tp: TP, messages: Sequence[Message]) -> SealedBatch | None:
        """The records of ``tp`` now sealed, up to the last seal among ``messages``; the
        records after it wait for their seal."""
        last = len(messages) - 1
        while last >= 0 and messages[last].key != SEAL_KEY:
            last -= 1
        if last < 0:
            self._wait(tp, messages)
            return None
        waited = self._unsealed.pop(tp, None)
        earlier = list(waited.values() if isinstance(waited, dict) else waited or ())
        sealed = [*earlier, *messages[: last + 1]]
        self._wait(tp, messages[last + 1 :])
        return SealedBatch(sealed, messages[last])

    def _wait(self, tp: TP, messages: Sequence[Message]) -> None:
        if not messages:
            return
        waiting = self._unsealed.get(tp)
        if waiting is None:
            table = self._tables.get(tp.topic)
            history = table is None or table.on_changelog_event is not None
            waiting = self._unsealed[tp] = [] if history else {}
        if isinstance(waiting, list):
            waiting.extend(messages)
        else:
            for message in messages:
                waiting.pop(message.key, None)  # re-inserted last: the dict keeps write order
                waiting[message.key] = message

    def has_unsealed(self, tp: TP) -> bool:
        return bool(self._unsealed.get(tp))

    def forget(self, tps: Iterable[TP]) -> None:
        """Drop what was read of ``tps``: they are read again from their stores' offsets."""
        for tp in tps:
            self._unsealed.pop(tp, None)
