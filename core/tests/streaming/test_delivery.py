"""At-least-once delivery, rebalances, repartitioning, back-pressure and held sends."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from strm import Record
from strm.app import App
from strm.builtins.memory_transport import get_broker
from strm.kernel.spi import TP
from strm.testing import eventually


class Word(Record):
    word: str
    count: int = 1


async def test_a_restarted_app_processes_what_was_not_committed(
    make_app: Callable[..., App],
) -> None:
    # Do not wait for the blocked event at stop: stop as a crash would, mid-event.
    first = make_app("alo", topic_partitions=1, stream_wait_empty=False)
    topic = first.topic("alo-in", value_type=int)
    seen_first: list[int] = []
    gate = asyncio.Event()

    @first.agent(topic)
    async def slow(stream: Any) -> None:
        async for value in stream:
            if value >= 5:
                await gate.wait()  # never set: the app stops while this event is in flight
            seen_first.append(value)

    async with first.running():
        for i in range(10):
            await topic.send(value=i)
        await eventually(lambda: seen_first == [0, 1, 2, 3, 4])
    # The clean stop committed offsets 0..4 only.
    second = make_app("alo", topic_partitions=1)
    seen_second: list[int] = []

    @second.agent(second.topic("alo-in", value_type=int))
    async def fast(stream: Any) -> None:
        async for value in stream:
            seen_second.append(value)

    async with second.running():
        await eventually(lambda: len(seen_second) == 5)
    assert seen_second == [5, 6, 7, 8, 9]


async def test_partitions_move_between_workers_without_loss(
    make_app: Callable[..., App],
) -> None:
    apps = [make_app("group", topic_partitions=4) for _ in range(2)]
    seen: list[list[int]] = [[], []]
    for index, app in enumerate(apps):

        @app.agent("group-in", name="collect", value_type=int)
        async def collect(stream: Any, into: list[int] = seen[index]) -> None:
            async for value in stream:
                into.append(value)
                await asyncio.sleep(0)

    topic = apps[0].topic("group-in", value_type=int)
    async with apps[0].running():
        async with apps[1].running():
            await eventually(lambda: len(apps[0].conductor.assignment) == 3)  # 2 + leader
            for i in range(100):
                await topic.send(key=str(i).encode(), value=i)
            await eventually(lambda: len(seen[0]) + len(seen[1]) == 100)
            assert seen[0] and seen[1]  # both workers had partitions
        for i in range(100, 150):
            await topic.send(key=str(i).encode(), value=i)
        await eventually(lambda: set(range(150)) <= set(seen[0]) | set(seen[1]))
        await app_checkpoint(apps[0])
        assert (
            sum(o for tp, o in apps[0].conductor.committed.items() if tp.topic == "group-in") == 150
        )
    assert apps[0].conductor.assignment == set()


async def app_checkpoint(app: App) -> None:
    await app.conductor.checkpoint()


async def test_group_by_field_repartitions_by_the_new_key(
    make_app: Callable[..., App], broker_url: str
) -> None:
    app = make_app("gb", topic_partitions=4)
    words = app.topic("words-in", value_type=Word)
    placed: dict[str, set[int]] = {}

    @app.agent(words)
    async def by_word(stream: Any) -> None:
        async for event in stream.group_by(Word.word).events():
            placed.setdefault(event.key, set()).add(event.message.partition)

    async with app.running():
        for i in range(40):
            await words.send(key=str(i).encode(), value=Word(word=f"w{i % 4}"))
        await eventually(lambda: sum(1 for _ in placed) == 4 and len(placed) == 4)
        await asyncio.sleep(0.05)
    assert all(len(partitions) == 1 for partitions in placed.values())
    repartition = get_broker(broker_url).topics["gb-words-in-word-repartition"]
    assert sum(len(log) for log in repartition.logs) == 40


async def test_group_by_function_needs_a_name(make_app: Callable[..., App]) -> None:
    from strm.kernel.errors import StrmError

    app = make_app()
    stream = app.stream(app.topic("t"))
    try:
        stream.group_by(lambda v: v)
    except StrmError as exc:
        assert "name=" in str(exc)
    else:
        raise AssertionError("group_by(fun) without name= must fail")
    grouped = stream.group_by(lambda v: v["k"], name="by-k")
    assert grouped.channel is not None
    assert grouped.channel.get_topic_name() == "app-t-by-k-repartition"  # type: ignore[attr-defined]


async def test_back_pressure_pauses_fetching_and_loses_nothing(
    make_app: Callable[..., App],
) -> None:
    app = make_app(topic_partitions=1, stream_buffer_maxsize=10)
    topic = app.topic("pressure", value_type=int)
    seen: list[int] = []
    paused_seen = [False]
    release = asyncio.Event()

    @app.agent(topic)
    async def slow(stream: Any) -> None:
        async for value in stream:
            paused_seen[0] = paused_seen[0] or bool(app.conductor._paused)
            if value == 0:
                await release.wait()
            seen.append(value)

    async with app.running():
        for i in range(100):
            await topic.send(value=i)
        await eventually(lambda: bool(app.conductor._paused))
        release.set()
        await eventually(lambda: len(seen) == 100)
    assert seen == list(range(100))
    assert paused_seen[0]


async def test_publish_on_commit_holds_sends_until_the_checkpoint(
    make_app: Callable[..., App], broker_url: str
) -> None:
    app = make_app(topic_partitions=1, stream_publish_on_commit=True, broker_commit_interval=3600.0)
    source = app.topic("poc-in", value_type=int)
    out = app.topic("poc-out", value_type=int)
    done: list[int] = []

    @app.agent(source)
    async def forward(stream: Any) -> None:
        async for value in stream:
            await out.send(value=value * 10)
            done.append(value)

    async with app.running():
        await out.declare()
        for i in range(3):
            await source.send(value=i)
        await eventually(lambda: len(done) == 3)
        broker = get_broker(broker_url)
        assert sum(len(log) for log in broker.topics["poc-out"].logs) == 0
        await app.conductor.checkpoint()
        # The agent asked for more after event 2, so all three events are finished.
        await eventually(lambda: sum(len(log) for log in broker.topics["poc-out"].logs) == 3)
        assert app.conductor.committed == {TP("poc-in", 0): 3}


async def test_commit_every_triggers_a_commit_before_the_interval(
    make_app: Callable[..., App],
) -> None:
    app = make_app(topic_partitions=1, broker_commit_every=10, broker_commit_interval=3600.0)
    topic = app.topic("every", value_type=int)
    seen: list[int] = []

    @app.agent(topic)
    async def read(stream: Any) -> None:
        async for value in stream:
            seen.append(value)

    async with app.running():
        for i in range(50):
            await topic.send(value=i)
        await eventually(lambda: app.conductor.committed.get(TP("every", 0), 0) >= 40)


async def test_commit_every_counts_records_processed_not_records_fetched(
    make_app: Callable[..., App],
) -> None:
    """Faust commits after ``broker_commit_every`` records are processed. Counting fetched
    records instead spent the count while the agent was still busy with the first record, and
    the other 49, processed afterwards, waited for the commit interval (an hour here)."""
    app = make_app(topic_partitions=1, broker_commit_every=10, broker_commit_interval=3600.0)
    topic = app.topic("every-slow", value_type=int)
    release = asyncio.Event()

    @app.agent(topic)
    async def read(stream: Any) -> None:
        async for value in stream:
            if value == 0:
                await release.wait()

    async with app.running():
        for i in range(50):
            await topic.send(value=i)
        await eventually(lambda: app.monitor.messages_received_total == 50)
        # a commit asked for by the fetches has begun (it waits for the record in flight)
        await eventually(lambda: not app.conductor._commit_wanted.is_set())
        release.set()
        await eventually(lambda: app.conductor.committed.get(TP("every-slow", 0), 0) >= 41)


async def test_exactly_one_leader_among_workers(make_app: Callable[..., App]) -> None:
    apps = [make_app("lead") for _ in range(3)]
    for app in apps:
        app.conductor.needs_leader = True
    async with apps[0].running(), apps[1].running(), apps[2].running():
        await eventually(lambda: sum(a.is_leader() for a in apps) == 1)


async def test_isolated_partitions_run_one_instance_per_partition(
    make_app: Callable[..., App],
) -> None:
    app = make_app("iso", topic_partitions=3, broker_commit_interval=0.02)
    topic = app.topic("iso-in", value_type=int)
    instances: dict[int, set[int]] = {}

    @app.agent(topic, isolated_partitions=True)
    async def per_partition(stream: Any) -> None:
        async for event in stream.events():
            instances.setdefault(id(stream), set()).add(event.message.partition)
            if event.value == -1:
                raise RuntimeError("restart me")

    async with app.running():
        await eventually(lambda: len(app.conductor.assignment) == 4)
        for i in range(30):
            await topic.send(key=str(i).encode(), value=i)
        await topic.send(key=b"0", value=-1)
        for i in range(30, 40):
            await topic.send(key=str(i).encode(), value=i)
        await eventually(
            lambda: sum(app.conductor.committed.get(TP("iso-in", p), 0) for p in range(3)) == 41
        )
    assert all(len(partitions) == 1 for partitions in instances.values())
    assert {p for ps in instances.values() for p in ps} == {0, 1, 2}
    assert len(instances) >= 4  # three partitions, and one instance restarted


async def test_monitor_and_plugin_sensors_see_batches_commits_and_errors(
    make_app: Callable[..., App], tmp_path: Any, monkeypatch: Any
) -> None:
    (tmp_path / "counting_sensor.py").write_text(
        "import strm\n"
        "from strm.sensors import Sensor\n"
        "class Counting(Sensor):\n"
        "    def __init__(self, app):\n"
        "        self.batches = 0\n"
        "        self.commits = 0\n"
        "        app.counting = self\n"
        "    def on_batch_in(self, tp, count):\n"
        "        self.batches += 1\n"
        "    def on_commit(self, offsets, seconds):\n"
        "        self.commits += 1\n"
        "@strm.hookimpl\n"
        "def strm_sensors():\n"
        "    return [strm.kernel.records.sensor('counting', Counting)]\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    app = make_app(topic_partitions=1, plugins=["counting_sensor"])
    topic = app.topic("observed", value_type=int)
    out = app.topic("observed-out", value_type=int)

    @app.agent(topic)
    async def relay(stream: Any) -> None:
        async for value in stream:
            if value == 3:
                raise ValueError("three")
            await out.send(value=value)

    async with app.running():
        for i in range(5):
            await topic.send(value=i)
        await eventually(lambda: app.monitor.messages_received_total == 5)
        await eventually(lambda: app.conductor.committable() == {TP("observed", 0): 5})
        await app.conductor.checkpoint()
    stats = app.monitor.asdict()
    assert stats["messages_received_by_topic"] == {"observed": 5}
    assert stats["messages_sent_by_topic"]["observed-out"] == 4
    assert stats["commits"] >= 1 and stats["tp_committed_offsets"]["observed[0]"] == 5
    assert stats["dead_letters"] == {"process": 1}
    assert sum(stats["agent_errors"].values()) == 1
    assert app.counting.batches >= 1 and app.counting.commits >= 1  # type: ignore[attr-defined]


def test_round_robin_scheduler_alternates_topics_then_partitions() -> None:
    from strm.builtins.scheduling import RoundRobinScheduler

    batches: dict[TP, list[Any]] = {
        TP("a", 0): [],
        TP("a", 1): [],
        TP("a", 2): [],
        TP("b", 0): [],
        TP("b", 1): [],
    }
    order = [tp for tp, _ in RoundRobinScheduler().order(batches)]
    assert order == [TP("a", 0), TP("b", 0), TP("a", 1), TP("b", 1), TP("a", 2)]


class ReverseScheduler:
    orders = 0

    def order(self, batches: Any) -> Any:
        ReverseScheduler.orders += 1
        return reversed(list(batches.items()))


async def test_consumer_scheduler_setting_takes_a_class(make_app: Callable[..., App]) -> None:
    app = make_app(topic_partitions=2, ConsumerScheduler=ReverseScheduler)
    topic = app.topic("sched", value_type=int)
    seen: list[int] = []

    @app.agent(topic)
    async def read(stream: Any) -> None:
        async for value in stream:
            seen.append(value)

    async with app.running():
        for i in range(4):
            await topic.send(value=i, partition=i % 2)
        await eventually(lambda: len(seen) == 4)
    assert ReverseScheduler.orders > 0


async def test_stream_recovery_delay_pauses_after_an_assignment(
    make_app: Callable[..., App],
) -> None:
    import time

    app = make_app(stream_recovery_delay=0.3)
    app.conductor.needs_leader = True
    started = time.monotonic()
    async with app.running():
        assert app.is_leader()
        assert time.monotonic() - started >= 0.3


async def test_publish_on_commit_does_not_hold_sends_from_channel_events(
    make_app: Callable[..., App], broker_url: str
) -> None:
    app = make_app(topic_partitions=1, stream_publish_on_commit=True)
    channel = app.channel()
    out = app.topic("from-channel", value_type=int)
    done: list[int] = []

    @app.agent(channel)
    async def forward(stream: Any) -> None:
        async for value in stream:
            await out.send(value=value)
            done.append(value)

    async with app.running():
        await channel.send(value=7)
        await eventually(lambda: done == [7])
        broker = get_broker(broker_url)
        await eventually(lambda: sum(len(log) for log in broker.topics["from-channel"].logs) == 1)


def test_agent_functions_must_be_async(make_app: Callable[..., App]) -> None:
    from strm.kernel.errors import StrmError

    app = make_app()
    try:

        @app.agent()
        def not_async(stream: Any) -> None:
            pass

    except StrmError as exc:
        assert "must be 'async def'" in str(exc)
    else:
        raise AssertionError("a non-async agent must be refused when it is defined")


async def test_stream_recovery_delay_holds_partitions_without_blocking_the_rebalance(
    make_app: Callable[..., App],
) -> None:
    """A rebalance listener returns at once (the transport heartbeats only after it); the
    partitions stay paused until the delay has passed since the last assignment."""
    import time

    delay = 0.5
    first = make_app("delayed", topic_partitions=2, stream_recovery_delay=delay)
    topic = first.topic("delayed-in", value_type=int, partitions=2)
    processed: list[tuple[int, float]] = []
    listener_times: list[float] = []

    @first.agent(topic)
    async def work(stream: Any) -> None:
        async for event in stream.events():
            processed.append((event.value, time.monotonic()))

    original = first.conductor.on_partitions_assigned

    assigned_at: list[float] = []

    async def timed(assigned: set[TP]) -> None:
        started = time.monotonic()
        await original(assigned)
        assigned_at.append(started)
        listener_times.append(time.monotonic() - started)

    first.conductor.on_partitions_assigned = timed  # type: ignore[method-assign]
    second = make_app("delayed", topic_partitions=2, stream_recovery_delay=delay)

    @second.agent(second.topic("delayed-in", value_type=int, partitions=2))
    async def idle(stream: Any) -> None:
        async for _ in stream:
            pass

    def mine(app: App) -> set[TP]:
        return {tp for tp in app.conductor.assignment if tp.topic == "delayed-in"}

    async with second.running():
        joining = asyncio.create_task(first.start())
        try:
            # the first member joins and is given one partition: it holds it for the delay
            await eventually(lambda: bool(assigned_at) and len(mine(first)) == 1)
            (tp,) = mine(first)
            await topic.send(value=7, partition=tp.partition)
            await eventually(lambda: bool(processed), timeout=5)
            await joining
        finally:
            await first.stop()
    assert processed[0][0] == 7
    assert processed[0][1] - assigned_at[-1] >= delay * 0.9
    assert max(listener_times) < delay / 2
