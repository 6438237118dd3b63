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


class SealedReader:
    """For each changelog partition, the records read since its last seal."""

    def __init__(self) -> None:
        self._unsealed: dict[TP, list[Message]] = {}

    def read(self, tp: TP, messages: Sequence[Message]) -> SealedBatch | None:
        """The records of ``tp`` now sealed, up to the last seal among ``messages``; the
        records after it wait for their seal."""
        last = len(messages) - 1
        while last >= 0 and messages[last].key != SEAL_KEY:
            last -= 1
        unsealed = self._unsealed.get(tp)
        if last < 0:
            if messages:
                if unsealed is None:
                    self._unsealed[tp] = list(messages)
                else:
                    unsealed.extend(messages)
            return None
        sealed = [*(unsealed or ()), *messages[: last + 1]]
        rest = messages[last + 1 :]
        if rest:
            self._unsealed[tp] = list(rest)
        else:
            self._unsealed.pop(tp, None)
        return SealedBatch(sealed, messages[last])

    def has_unsealed(self, tp: TP) -> bool:
        return bool(self._unsealed.get(tp))

    def forget(self, tps: Iterable[TP]) -> None:
        """Drop what was read of ``tps``: they are read again from their stores' offsets."""
        for tp in tps:
            self._unsealed.pop(tp, None)
