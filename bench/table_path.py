"""The word count's per-event cost against the stateless agent's, for instruction counts.

Wall-clock rates on a shared 2-core machine move by 2x from one run to the next; valgrind's
instruction counts do not. This script runs one case of a given size, so that the count of a
run with N events minus that of a run with fewer, divided by the difference, is the cost of one
event with start-up cancelled out::

    valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        .venv/bin/python bench/table_path.py memory word-count --events 40000
    # the same with --events 10000; then (I40k - I10k) / 30000, minus the same for `fill`

Cases: ``stateless`` (an agent counting events), ``word-count`` (``counts[word] += 1``) and,
on ``memory://``, ``fill`` (only the appending of the input to the in-process broker, to be
subtracted). On Kafka the input is produced by a separate process first
(``kafka-fill``), so nothing needs subtracting. Checkpoints run only at the end by default
(``--commit-every`` and ``--commit-interval`` as large as they go: under valgrind a 2.8 s
timer fires every few hundred events), which isolates the per-event path; a checkpoint's cost
per changelog record is the difference between two word counts of the same number of events
over different numbers of ``--words`` (each distinct word is one record of the final
checkpoint).

    uv run python bench/table_path.py kafka-fill --bootstrap HOST:PORT --topic t --events 40000
    uv run python bench/table_path.py kafka word-count --bootstrap HOST:PORT --topic t
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import uuid
import zlib
from typing import Any

import strm
from kafka import create_topics, produce
from strm.builtins.memory_transport import drop_broker, get_broker, unique_url
from strm.kernel.spi import ProducerRecord, TopicSpec

NEVER = 2**62  # broker_commit_every that no run reaches
WAIT = 900.0  # seconds: valgrind runs 50 times slower than the interpreter alone


def word(i: int, words: int) -> str:
    return f"word{i % words}"


def partition_of(text: str, partitions: int) -> int:
    return zlib.crc32(text.encode()) % partitions


async def kafka_fill(bootstrap: str, topic: str, events: int, words: int, partitions: int) -> None:
    await create_topics(bootstrap, [topic], partitions)
    records = []
    for i in range(events):
        text = word(i, words)
        records.append((partition_of(text, partitions), text.encode(), json.dumps(text).encode()))
    await produce(bootstrap, topic, records)


async def run(args: argparse.Namespace) -> None:
    url = args.bootstrap and f"kafka://{args.bootstrap}"
    topic_name = args.topic
    if args.transport == "memory":
        url = unique_url("table-path")
        topic_name = "words"
        broker = get_broker(url)
        broker.create_topic(TopicSpec(topic_name, args.partitions))
        log = broker.topic(topic_name, lambda: args.partitions)
        for i in range(args.events):
            text = word(i, args.words)
            partition = partition_of(text, args.partitions)
            log.append(
                ProducerRecord(topic_name, partition, text.encode(), json.dumps(text).encode())
            )
        if args.case == "fill":
            drop_broker(url)
            return
    with tempfile.TemporaryDirectory() as datadir:
        app = strm.App(
            f"table-path-{uuid.uuid4().hex[:8]}",
            broker=url,
            store=args.store,
            datadir=datadir,
            environ={},
            topic_partitions=args.partitions,
            stream_buffer_maxsize=65_536,
            web_enabled=False,
            broker_commit_every=args.commit_every,
            broker_commit_interval=args.commit_interval,
            producer_compression_type=args.compression,
            processing_guarantee=args.guarantee,
        )
        counts = app.Table("counts", default=int)
        topic = app.topic(topic_name, key_type=str, value_type=str)
        done = asyncio.Event()
        seen = 0
        counting = args.case == "word-count"

        @app.agent(topic)
        async def count(stream: Any) -> None:
            nonlocal seen
            async for text in stream:
                if counting:
                    counts[text] += 1
                seen += 1
                if seen == args.events:
                    done.set()

        async with app.running():
            await asyncio.wait_for(done.wait(), WAIT)
            await asyncio.wait_for(app.conductor.checkpoint(), WAIT)
            sent = sum(app.sent_by_topic().values())  # changelog records and seals
            print(f"records sent: {sent}; app {app.conf.id}", file=sys.stderr)
    if args.transport == "memory":
        drop_broker(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("transport", choices=("memory", "kafka", "kafka-fill"))
    parser.add_argument("case", nargs="?", choices=("stateless", "word-count", "fill"))
    parser.add_argument("--events", type=int, default=40_000)
    parser.add_argument("--words", type=int, default=10_000)
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--store", default="memory://")
    parser.add_argument("--commit-every", type=int, default=NEVER)
    parser.add_argument("--commit-interval", type=float, default=1e6)
    parser.add_argument("--guarantee", default="at_least_once", help="processing_guarantee")
    parser.add_argument("--compression", help="producer_compression_type (gzip, lz4, zstd)")
    parser.add_argument("--bootstrap", help="HOST:PORT of the broker (kafka, kafka-fill)")
    parser.add_argument("--topic", help="the input topic on Kafka (kafka, kafka-fill)")
    args = parser.parse_args()
    if args.transport == "kafka-fill":
        asyncio.run(
            kafka_fill(args.bootstrap, args.topic, args.events, args.words, args.partitions)
        )
        return
    if args.case is None or (args.transport == "kafka" and not (args.bootstrap and args.topic)):
        parser.error("give a case; on kafka, --bootstrap and --topic too")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
