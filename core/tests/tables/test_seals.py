"""What a changelog reader holds until a seal comes (:class:`strm.runtime.seals.SealedReader`):
for a table without ``on_changelog_event``, the last record of each key, so that memory is
bounded by the table's keys and not by the length of the changelog read before the seal."""

from __future__ import annotations

from typing import Any

import strm
from strm.kernel.spi import TP, Message
from strm.runtime.seals import SEAL_KEY, SealedReader, encode_seal

TOPIC = "app-counts-changelog"
PARTITION = TP(TOPIC, 0)


async def noop(event: Any) -> None:
    return None


def table(**options: Any) -> Any:
    return strm.App("app", entry_points=False).Table("counts", default=int, **options)


def records(start: int, count: int, keys: int) -> list[Message]:
    return [
        Message(TOPIC, 0, offset, 0.0, f"k{offset % keys}".encode(), str(offset).encode())
        for offset in range(start, start + count)
    ]


def seal(offset: int) -> Message:
    return Message(TOPIC, 0, offset, 0.0, SEAL_KEY, encode_seal({TP("words", 0): offset}))


def test_unsealed_records_of_a_table_are_bounded_by_its_keys() -> None:
    tables: dict[str, Any] = {}
    reader = SealedReader(tables)
    tables[TOPIC] = table()  # registered after the reader was made, as the manager does
    for start in range(0, 30_000, 1_000):
        assert reader.read(PARTITION, records(start, 1_000, keys=10)) is None
        assert reader.has_unsealed(PARTITION)
    sealed = reader.read(PARTITION, [seal(30_000)])
    assert sealed is not None
    assert len(sealed.records) == 11  # one record per key, and the seal
    # The last value of each key wins, as if every record had been kept.
    assert sealed.puts() == {f"k{k}".encode(): str(29_990 + k).encode() for k in range(10)}
    assert sealed.sources == {TP("words", 0): 30_000}
    assert not reader.has_unsealed(PARTITION)


def test_a_key_written_again_after_the_others_comes_last() -> None:
    reader = SealedReader({TOPIC: table()})
    batch = [
        Message(TOPIC, 0, 0, 0.0, b"a", b"1"),
        Message(TOPIC, 0, 1, 0.0, b"b", b"2"),
        Message(TOPIC, 0, 2, 0.0, b"a", b"3"),
    ]
    assert reader.read(PARTITION, batch) is None
    sealed = reader.read(PARTITION, [seal(3)])
    assert sealed is not None
    assert [(m.key, m.value) for m in sealed.table_records()] == [(b"b", b"2"), (b"a", b"3")]


def test_a_table_with_on_changelog_event_keeps_every_record() -> None:
    reader = SealedReader({TOPIC: table(on_changelog_event=noop)})
    assert reader.read(PARTITION, records(0, 500, keys=10)) is None
    sealed = reader.read(PARTITION, [*records(500, 500, keys=10), seal(1_000)])
    assert sealed is not None
    assert [m.offset for m in sealed.table_records()] == list(range(1_000))


def test_records_after_the_last_seal_wait_for_the_next_one() -> None:
    reader = SealedReader({TOPIC: table()})
    sealed = reader.read(PARTITION, [*records(0, 5, keys=5), seal(5), *records(6, 3, keys=2)])
    assert sealed is not None
    assert [m.offset for m in sealed.records] == [0, 1, 2, 3, 4, 5]
    assert reader.has_unsealed(PARTITION)
    later = reader.read(PARTITION, [seal(9)])
    assert later is not None
    assert sorted(m.offset for m in later.table_records()) == [7, 8]  # k0 at 6 was rewritten at 8
    reader.read(PARTITION, records(10, 3, keys=3))
    reader.forget([PARTITION])
    assert not reader.has_unsealed(PARTITION)


def test_a_changelog_of_no_known_table_keeps_every_record() -> None:
    reader = SealedReader()
    reader.read(PARTITION, records(0, 100, keys=1))
    sealed = reader.read(PARTITION, [seal(100)])
    assert sealed is not None
    assert len(sealed.table_records()) == 100
