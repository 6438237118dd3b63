"""``/metrics`` of a real ``strm worker`` on the real Kafka broker: the counts equal the records
sent, and the lag of every partition comes down to zero. With ``--processes 2`` each child
serves the figures of both, summed from the directory they share."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from prom_worker import (
    PromWorker,
    create_topic,
    free_ports,
    get_json,
    run,
    send_events,
    unique_name,
)
from scrape import Scrape, poll
from strm_sensor_prometheus.multiprocess import DIRNAME

pytestmark = [pytest.mark.slow, pytest.mark.kafka]

PARTITIONS = 4
EVENTS = 1_000


def settled(topic: str) -> Callable[[Scrape], bool]:
    def check(s: Scrape) -> bool:
        lag = s.series("strm_consumer_lag")
        return (
            s.total("strm_messages_received_total", topic=topic) == EVENTS
            and s.total("strm_agent_events_total", topic=topic) == EVENTS
            and len(lag) == PARTITIONS
            and not any(lag.values())
        )

    return check


def test_metrics_of_one_worker_count_the_records_sent_and_lag_reaches_zero(
    tmp_path: Path, kafka_bootstrap: str
) -> None:
    topic = unique_name("orders")
    run(create_topic(kafka_bootstrap, topic, PARTITIONS))
    port = free_ports(1)
    worker = PromWorker(
        tmp_path, kafka_bootstrap, topic, "--web-port", str(port), "--web-bind", "127.0.0.1"
    )
    try:
        worker.wait_for("ready in")
        run(send_events(kafka_bootstrap, topic, EVENTS, PARTITIONS))
        url = f"http://127.0.0.1:{port}/metrics"
        found = poll(url, settled(topic), timeout=60, what="every record counted, lag zero")
        for partition in range(PARTITIONS):
            labels = {"topic": topic, "partition": str(partition)}
            assert found.total("strm_messages_received_total", **labels) == EVENTS / PARTITIONS
            assert found.total("strm_consumer_highwater_offset", **labels) == EVENTS / PARTITIONS
        committed = poll(
            url,
            lambda s: s.total("strm_consumer_committed_offset", topic=topic) == EVENTS,
            timeout=30,
            what="every offset committed",
        )
        assert committed.total("strm_commit_duration_seconds_count") >= 1
        assert committed.total("strm_assignments_total") >= 1
        assert committed.total("strm_dead_letters_total") == 0
    finally:
        assert worker.stop() == 0, worker.output


def _partitions_by_child(port: int, topic: str) -> list[int]:
    """How many of the topic's partitions each child reads (from its dashboard's figures)."""
    return [
        sum(1 for p in get_json(f"http://127.0.0.1:{port + i}/dashboard/snapshot.json")[
            "partitions"] if p["topic"] == topic)
        for i in (0, 1)
    ]  # fmt: skip


def test_processes_share_one_set_of_figures_summed_across_them(
    tmp_path: Path, kafka_bootstrap: str
) -> None:
    topic = unique_name("orders")
    run(create_topic(kafka_bootstrap, topic, PARTITIONS))
    port = free_ports(2)
    shared = tmp_path / "data" / DIRNAME
    shared.mkdir(parents=True)
    (shared / "counter_1.db").write_bytes(b"figures an earlier run left")
    worker = PromWorker(
        tmp_path, kafka_bootstrap, topic,
        "--processes", "2", "--web-port", str(port), "--web-bind", "127.0.0.1",
    )  # fmt: skip
    try:
        worker.wait_for("ready in", count=2)
        assert not (shared / "counter_1.db").exists(), "the earlier run's figures were kept"
        # Both children read some partitions, and the split holds still for a second, before
        # the records go out: then no single process can have seen them all.
        deadline = time.monotonic() + 90
        previous: list[int] = []
        while True:
            split = _partitions_by_child(port, topic)
            if all(split) and sum(split) == PARTITIONS and split == previous:
                break
            assert time.monotonic() < deadline, f"the group did not settle: {split}"
            previous = split
            time.sleep(1.0)
        run(send_events(kafka_bootstrap, topic, EVENTS, PARTITIONS))
        for i in (0, 1):
            url = f"http://127.0.0.1:{port + i}/metrics"
            found = poll(url, settled(topic), timeout=60, what=f"child {i}: every record, summed")
            assert found.total("strm_assigned_partitions") == PARTITIONS
        pids = {path.stem.rpartition("_")[2] for path in shared.glob("counter_*.db")}
        assert len(pids) == 2, sorted(shared.iterdir())
    finally:
        assert worker.stop() == 0, worker.output
