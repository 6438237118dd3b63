"""The Monitor's figures against what really happened on a memory:// broker."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import strm
from strm.app import App
from strm.builtins.memory_transport import drop_broker, get_broker, unique_url
from strm.kernel.spi import TP
from strm.runtime.seals import SEAL_KEY
from strm.testing import eventually
from strm.testing.pytest_plugin import AppFactory


@pytest.fixture
def broker_url() -> Iterator[str]:
    url = unique_url("monitor")
    yield url
    drop_broker(url)


@pytest.fixture
def make_app(strm_app_factory: AppFactory, broker_url: str) -> Callable[..., App]:
    def make(id: str = "mon", **settings: Any) -> App:
        settings.setdefault("broker", broker_url)
        settings.setdefault("topic_partitions", 2)
        return strm_app_factory(id, **settings)

    return make


def _log_bytes(broker_url: str, tp: TP) -> tuple[int, int]:
    records = [m for m in get_broker(broker_url).log(tp) if m.key != SEAL_KEY]
    return len(records), sum(len(m.key or b"") + len(m.value or b"") for m in records)


async def test_counts_are_exact_per_topic_partition_and_agent(
    make_app: Callable[..., App], broker_url: str
) -> None:
    app = make_app()
    source = app.topic("numbers", value_type=int)
    out = app.topic("doubled", value_type=int)

    @app.agent(source)
    async def double(stream: Any) -> None:
        async for value in stream:
            await out.send(key=str(value).encode(), value=value * 2)

    async with app.running():
        for i in range(300):
            await source.send(key=str(i).encode(), value=i)
        await eventually(lambda: app.monitor.events_total == 300)
        await eventually(lambda: app.conductor.committable() != {})
        await app.conductor.checkpoint()
        snap = app.monitor.snapshot()
    per_tp = {
        tp: len(get_broker(broker_url).log(tp)) for tp in (TP("numbers", 0), TP("numbers", 1))
    }
    assert snap.messages_received_total == 300
    assert dict(snap.messages_received_by_tp) == per_tp
    assert snap.messages_received_by_topic == {"numbers": 300}
    name = double.name
    assert snap.events_total == 300 and snap.agents[name].events_total == 300
    assert snap.agents[name].runtime.count >= 1
    assert snap.messages_sent_by_topic["doubled"] == 300
    sent = {tp: n for tp, n in snap.messages_sent_by_tp.items() if tp.topic == "doubled"}
    for tp, count in sent.items():
        assert (count, snap.bytes_sent_by_tp[tp]) == _log_bytes(broker_url, tp)
    assert sum(sent.values()) == 300
    assert snap.send_latency.count >= 1 and snap.commits >= 1
    assert snap.messages_s_by_topic["numbers"] > 0 and snap.messages_sent_s_by_topic["doubled"] > 0
    assert snap.commit_latency.count == snap.commits
    as_json = app.monitor.asdict()
    assert as_json["messages_received_by_tp"] == {f"numbers[{tp.partition}]": n
                                                  for tp, n in sorted(per_tp.items())}  # fmt: skip
    assert as_json["agents"][name]["events_total"] == 300


async def test_a_slow_agent_shows_in_its_p99(make_app: Callable[..., App]) -> None:
    app = make_app(topic_partitions=1)
    slow_in, fast_in = app.topic("slow-in", value_type=int), app.topic("fast-in", value_type=int)

    @app.agent(slow_in)
    async def slow(stream: Any) -> None:
        async for _ in stream:
            await asyncio.sleep(0.02)

    @app.agent(fast_in)
    async def fast(stream: Any) -> None:
        async for _ in stream:
            pass

    async with app.running():
        for i in range(20):
            await slow_in.send(value=i)
            await fast_in.send(value=i)
        await eventually(lambda: app.monitor.events_total == 40, timeout=10)
        agents = app.monitor.snapshot().agents
    assert agents[slow.name].runtime.p99 >= 0.019
    assert agents[slow.name].runtime.p50 >= 0.019
    assert agents[fast.name].runtime.p99 < 0.01


async def test_lag_per_partition_reaches_zero(make_app: Callable[..., App]) -> None:
    app = make_app()
    source = app.topic("lagging", value_type=int)
    gate = asyncio.Event()

    @app.agent(source)
    async def held(stream: Any) -> None:
        async for value in stream:
            if value >= 20:  # each partition has processed some: its lag is known
                await gate.wait()

    async with app.running():
        for i in range(40):
            await source.send(key=str(i).encode(), value=i)

        def lag() -> dict[TP, int | None]:
            return {tp: g.lag for tp, g in app.monitor.snapshot().gauges.partitions.items()}

        await eventually(lambda: sum(v or 0 for v in lag().values()) > 0)
        gate.set()
        await eventually(lambda: lag() == {TP("lagging", 0): 0, TP("lagging", 1): 0})
        gauges = app.monitor.snapshot().gauges
    assert sum(g.highwater or 0 for g in gauges.partitions.values()) == 40
    assert gauges.lag_total == 0


async def test_changelog_records_and_table_sizes(
    make_app: Callable[..., App], broker_url: str
) -> None:
    app = make_app()
    words = app.topic("words", key_type=str, value_type=str)
    counts = app.Table("counts", default=int)

    @app.agent(words)
    async def count(stream: Any) -> None:
        async for word in stream:
            counts[word] += 1

    async with app.running():
        for i in range(60):
            word = f"w{i % 12}"
            await words.send(key=word, value=word)
        await eventually(lambda: app.monitor.events_total == 60)
        await app.conductor.checkpoint()
        snap = app.monitor.snapshot()
    changelog = counts.changelog_topic_name
    logged = [_log_bytes(broker_url, TP(changelog, p)) for p in range(2)]
    assert snap.changelog_records_by_table == {"counts": sum(n for n, _ in logged)}
    assert snap.changelog_bytes_by_table == {"counts": sum(b for _, b in logged)}
    assert snap.changelog_records_by_table["counts"] >= 12
    table = snap.gauges.tables["counts"]
    assert (table.size, table.partitions, table.recovered) == (12, 2, True)


async def test_rebalance_is_counted_with_its_duration(make_app: Callable[..., App]) -> None:
    first = make_app()
    second = make_app()
    for app in (first, second):
        app.agent(app.topic("shared", value_type=int), name="reader")(_drain)
    async with first.running():
        await eventually(lambda: first.monitor.rebalances == 1 and not first.monitor.rebalancing)
        assert first.monitor.snapshot().rebalance_end_latency.count == 1
        async with second.running():
            await eventually(lambda: len(_shared(first)) == 1 and len(_shared(second)) == 1)
            await eventually(lambda: not first.monitor.rebalancing)
        snap = first.monitor.snapshot()
    assert snap.rebalances >= 2
    assert snap.rebalance_end_latency.count == snap.rebalances
    assert snap.rebalance_end_latency.max > 0
    assert snap.revocations >= 1 and snap.assignments >= 2


def _shared(app: App) -> set[TP]:
    return {tp for tp in app.conductor.assignment if tp.topic == "shared"}


async def _drain(stream: Any) -> None:
    async for _ in stream:
        pass


class Recording(strm.Sensor):
    """Records the name of every callback the kernel makes."""

    def __init__(self, app: App | None = None) -> None:
        self.calls: dict[str, list[tuple[Any, ...]]] = {}

    def _note(self, name: str, *args: Any) -> None:
        self.calls.setdefault(name, []).append(args)

    def on_batch_in(self, tp: TP, count: int) -> None:
        self._note("on_batch_in", tp, count)

    def on_agent_batch(self, agent: str, tp: TP, count: int, seconds: float) -> None:
        self._note("on_agent_batch", agent, tp, count, seconds)

    def on_send_batch(self, sent: Any, seconds: float) -> None:
        self._note("on_send_batch", dict(sent), seconds)

    def on_send_failed(self, topic: str, count: int, error: BaseException) -> None:
        self._note("on_send_failed", topic, count, error)

    def on_changelog(self, table: str, tp: TP, count: int, nbytes: int) -> None:
        self._note("on_changelog", table, tp, count, nbytes)

    def on_commit(self, offsets: Any, seconds: float) -> None:
        self._note("on_commit", dict(offsets), seconds)

    def on_rebalance_started(self) -> None:
        self._note("on_rebalance_started")

    def on_rebalance_finished(self, seconds: float) -> None:
        self._note("on_rebalance_finished", seconds)

    def on_partitions_assigned(self, assigned: set[TP]) -> None:
        self._note("on_partitions_assigned", assigned)

    def on_partitions_revoked(self, revoked: set[TP]) -> None:
        self._note("on_partitions_revoked", revoked)

    def on_dead_letter(self, message: Any, error: BaseException, stage: str) -> None:
        self._note("on_dead_letter", stage)

    def on_agent_error(self, agent: str, error: BaseException) -> None:
        self._note("on_agent_error", agent, error)

    def on_agent_restart(self, agent: str, instances: int) -> None:
        self._note("on_agent_restart", agent, instances)

    def on_recovery_progress(self, progress: Any) -> None:
        self._note("on_recovery_progress", progress.finished)

    def on_loop_lag(self, seconds: float) -> None:
        self._note("on_loop_lag", seconds)


async def test_a_user_sensor_hears_every_callback_through_the_kernel(
    make_app: Callable[..., App], tmp_path: Any, monkeypatch: Any
) -> None:
    (tmp_path / "recording_sensor.py").write_text(
        "import strm\n"
        "from test_monitor import Recording\n"
        "@strm.hookimpl\n"
        "def strm_sensors():\n"
        "    return [strm.kernel.records.sensor('recording', Recording)]\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.syspath_prepend(str(__import__("pathlib").Path(__file__).parent))
    app = make_app(plugins=["recording_sensor"], topic_partitions=1)
    added = Recording()
    app.sensors.add(added)  # before the app is configured: kept
    app.configure()
    from_plugin = next(s for s in app.sensors.sensors if type(s).__name__ == "Recording")
    assert added in app.sensors.sensors and from_plugin is not added
    events = app.topic("events", value_type=int)
    out = app.topic("events-out", value_type=int)
    seen = app.Table("seen", default=int)

    @app.agent(events)
    async def work(stream: Any) -> None:
        async for value in stream:
            if value == 3:
                raise ValueError("three")
            seen[value] += 1
            await out.send(value=value)

    async with app.running():
        for value in range(6):
            await events.send(value=value)
        await app.producer.send("events", None, b"{not json", partition=0)
        await eventually(lambda: "on_dead_letter" in added.calls and "on_agent_restart" in
                         added.calls and len(seen) == 5)  # fmt: skip
        with pytest.raises(strm.StrmError):
            await out.send(value=1, partition=99)
        await app.conductor.checkpoint()
        await eventually(lambda: "on_loop_lag" in added.calls, timeout=5)
    # a second run recovers the table from its changelog
    again = make_app(plugins=["recording_sensor"], topic_partitions=1)
    again.Table("seen", default=int)
    again.configure()
    recovering = next(s for s in again.sensors.sensors if type(s).__name__ == "Recording")
    async with again.running():
        await eventually(lambda: (True,) in recovering.calls.get("on_recovery_progress", []))
    for sensor in (from_plugin, added):
        missing = set(strm.sensors.CALLBACKS) - set(sensor.calls)
        assert missing == {"on_recovery_progress"}, sorted(missing)
    calls = added.calls
    assert sum(c[1] for c in calls["on_batch_in"]) == 7
    assert {c[0] for c in calls["on_agent_batch"]} == {work.name}
    assert calls["on_agent_restart"] == [(work.name, 1)]
    assert [c[0] for c in calls["on_dead_letter"]].count("decode") == 1
    assert calls["on_send_failed"][0][:2] == ("events-out", 1)
    sent = {tp: n for c in calls["on_send_batch"] for tp, (n, _) in c[0].items()}
    assert sent[TP("events-out", 0)] == 5
    assert {c[0] for c in calls["on_changelog"]} == {"seen"}


def test_a_faust_per_event_callback_is_refused_with_the_batch_one_to_use() -> None:
    with pytest.raises(TypeError, match=r"on_message_in.*override on_batch_in\(tp, count\)"):

        class PerEvent(strm.Sensor):
            def on_message_in(self, tp: Any, offset: int, message: Any) -> None:
                pass

    with pytest.raises(TypeError, match=r"on_send_error.*on_send_failed"):

        class SendErrors(strm.Sensor):
            def on_send_error(self, producer: Any, exc: BaseException, state: Any) -> None:
                pass


def test_sensor_set_forwards_only_to_overriding_sensors(strm_app: App) -> None:
    class Commits(strm.Sensor):
        def __init__(self) -> None:
            self.commits = 0

        def on_commit(self, offsets: Any, seconds: float) -> None:
            self.commits += 1

    sensor = Commits()
    alone = strm.sensors.SensorSet([sensor])
    assert alone.wants("on_commit") and not alone.wants("on_changelog")
    strm_app.sensors.add(sensor)
    strm_app.sensors.on_commit({}, 0.1)
    assert sensor.commits == 1 and strm_app.monitor.commits == 1
    strm_app.sensors.remove(sensor)
    strm_app.sensors.on_commit({}, 0.1)
    assert sensor.commits == 1 and strm_app.monitor.commits == 2
    with pytest.raises(TypeError, match=r"instance of strm\.Sensor"):
        strm_app.sensors.add(object())  # type: ignore[arg-type]


async def test_no_monitor_turns_it_off(make_app: Callable[..., App]) -> None:
    app = make_app(Monitor=strm.NoMonitor, topic_partitions=1)
    source = app.topic("quiet", value_type=int)
    app.agent(source)(_drain)
    assert not any(app.sensors.wants(name) for name in strm.sensors.CALLBACKS)
    async with app.running():
        await source.send(value=1)
        await eventually(lambda: app.monitor.asdict()["partitions"]["quiet[0]"]["lag"] == 0)
        assert app.monitor.asdict()["monitor"] == "off"
        sender = await app.get_sender()
        assert not sender._counting and not sender._unflushed  # no per-record count either
        with pytest.raises(strm.StrmError, match="Monitor is off"):
            app.monitor.snapshot()
    assert app.monitor.messages_received_total == 0
