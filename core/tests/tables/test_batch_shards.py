"""The per-batch table shortcut: one partition check per inbox batch, each write in its
event's partition."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from strm.app import App
from strm.builtins.memory_transport import get_broker
from strm.kernel.spi import ProducerRecord, TopicSpec
from strm.testing import eventually

PARTITIONS = 4


async def test_each_write_of_a_batch_lands_in_its_event_s_partition(
    make_app: Callable[..., App], broker_url: str
) -> None:
    """Records appended before the start arrive as large batches, one partition each, and
    partitions alternate between batches: the shortcut must follow every change of batch."""
    broker = get_broker(broker_url)
    broker.create_topic(TopicSpec("words", PARTITIONS))
    log = broker.topic("words", lambda: PARTITIONS)
    expected: dict[int, dict[str, int]] = {p: {} for p in range(PARTITIONS)}
    for i in range(4_000):
        partition = i % PARTITIONS
        word = f"w{partition}-{i % 37}"
        expected[partition][word] = expected[partition].get(word, 0) + 1
        log.append(ProducerRecord("words", partition, word.encode(), word.encode()))
    app = make_app("batches", topic_partitions=PARTITIONS, broker_commit_interval=3600.0)
    topic = app.topic("words", key_type=str, value_type=str)
    counts = app.Table("counts", default=int)
    seen: list[int] = []
    reads: list[int] = []

    @app.agent(topic)
    async def count(stream: Any) -> None:
        async for event in stream.events():
            word = event.value
            counts[word] += 1
            reads.append(counts[word] - counts.get(word, 0))  # a read after the write
            seen.append(event.message.partition)

    async with app.running():
        await eventually(lambda: len(seen) == 4_000, timeout=30)
        assert len({p for p in seen}) == PARTITIONS
        for partition, words in expected.items():
            cache = counts._shards[partition].cache
            assert {w: cache[w] for w in words} == words
            assert not set(cache) - set(words), "a key written to another event's partition"
        assert counts.as_dict() == {w: c for ws in expected.values() for w, c in ws.items()}
        assert not counts._key_index  # the stream path never touches it
        # outside the stream each key is found in its partition's cache, then indexed
        assert all(counts[w] == c for w, c in expected[3].items())
        assert {counts._key_index[w] for w in expected[3]} == {3}
    assert set(reads) == {0}


async def test_the_key_index_forgets_its_oldest_keys_and_reads_still_find_them(
    make_app: Callable[..., App], broker_url: str
) -> None:
    """``table_key_index_size`` bounds the index of what reads outside a stream found, the
    oldest key forgotten first; a forgotten key is found again in the local stores."""
    broker = get_broker(broker_url)
    broker.create_topic(TopicSpec("words", 2))
    log = broker.topic("words", lambda: 2)
    words = [f"w{i:02d}" for i in range(12)]
    for i, word in enumerate(words):
        log.append(ProducerRecord("words", i % 2, word.encode(), word.encode()))
    app = make_app("index", topic_partitions=2, table_key_index_size=5)
    topic = app.topic("words", key_type=str, value_type=str)
    counts = app.Table("counts", default=int)
    seen: list[str] = []

    @app.agent(topic)
    async def count(stream: Any) -> None:
        async for word in stream:
            counts[word] += 1
            seen.append(word)

    async with app.running():
        await eventually(lambda: len(seen) == 12, timeout=30)
        for word in words:  # outside the stream: each found in its partition's shard
            assert counts[word] == 1
        assert list(counts._key_index) == words[-5:]
        await app.conductor.checkpoint()
        for shard in counts._shards.values():
            shard.invalidate()  # written and forgotten: only the stores hold them now
            assert not shard.cache
        assert counts[words[0]] == 1
        assert list(counts._key_index) == [*words[-4:], words[0]]
        assert counts[words[-1]] == 1  # from the index: no store read
        assert counts._key_index[words[-1]] == 1
