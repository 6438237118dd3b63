"""Each registration hook a third-party plugin implements, used by the kernel as an app uses it
(not only resolved): a cache behind ``app.cache``, a codec and a partitioner on a topic's sends,
a consumer scheduler ordering fetched batches, a supervisor deciding about a crashed agent, and
an extension class that ``strm worker`` runs.

Stores are covered by core/tests/tables/test_store_calls.py, sensors by
core/tests/streaming/test_delivery.py, model types by core/tests/models/test_model_types.py,
web drivers, web transports and web routes by plugins/web_aiohttp/tests, transports by
plugins/transport_kafka/tests and core/tests/test_processes.py.
"""

from __future__ import annotations

import sys
import textwrap
import types
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest
import strm
from strm.agents.supervisors import Decision, Supervisor
from strm.builtins.memory_transport import drop_broker, get_broker, unique_url
from strm.cli.main import main
from strm.kernel import records
from strm.kernel.contexts import CacheContext
from strm.kernel.spi import TP, Message
from strm.testing import eventually
from strm.testing.pytest_plugin import AppFactory

PLUGIN = "strm_hooks_in_use"


class DictCache:
    STORED: ClassVar[dict[str, bytes]] = {}

    def __init__(self, *, url: str, context: CacheContext, **_: Any) -> None:
        self.url = url
        self.app_id = context.app_id

    async def get(self, key: str) -> bytes | None:
        return self.STORED.get(key)

    async def set(self, key: str, value: bytes, timeout: float | None = None) -> None:
        self.STORED[key] = value

    async def delete(self, key: str) -> None:
        self.STORED.pop(key, None)


class ReversedBytes:
    def dumps(self, obj: Any) -> bytes:
        return bytes(obj)[::-1]

    def loads(self, data: bytes) -> Any:
        return data[::-1]


def last_partition(key: bytes | None, all_partitions: list[int], available: list[int]) -> int:
    return all_partitions[-1]


class RecordingScheduler:
    ORDERED: ClassVar[list[list[TP]]] = []

    def order(
        self, batches: Mapping[TP, Sequence[Message]]
    ) -> Iterator[tuple[TP, Sequence[Message]]]:
        self.ORDERED.append(sorted(batches))
        yield from sorted(batches.items(), reverse=True)


class RecordingForfeit(Supervisor):
    CRASHES: ClassVar[list[tuple[str, str]]] = []
    decision = Decision.STOP_ONE

    def on_crash(self, index: int, error: BaseException) -> Decision:
        self.CRASHES.append((self.agent_name, str(error)))
        return super().on_crash(index, error)


class QuickWorker(strm.Worker):
    """Runs nothing: records that ``strm worker`` built it, and with what."""

    BUILT: ClassVar[list[tuple[str, bool]]] = []

    def execute(self) -> int:
        self.BUILT.append((self.app.conf.id, self.debug))
        return 0


@pytest.fixture(autouse=True)
def plugin(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    module = types.ModuleType(PLUGIN)

    @strm.hookimpl
    def strm_caches() -> list[strm.Provision]:
        return [records.cache("dictcache", DictCache)]

    @strm.hookimpl
    def strm_codecs() -> list[strm.Provision]:
        return [records.codec("reversed", ReversedBytes)]

    @strm.hookimpl
    def strm_producer_partitioners() -> list[strm.Provision]:
        return [records.partitioner("last", last_partition)]

    @strm.hookimpl
    def strm_consumer_schedulers() -> list[strm.Provision]:
        return [records.consumer_scheduler("recording", RecordingScheduler)]

    @strm.hookimpl
    def strm_agent_supervisors() -> list[strm.Provision]:
        return [records.supervisor("recording_forfeit", RecordingForfeit)]

    @strm.hookimpl
    def strm_extension_classes() -> list[strm.Provision]:
        return [records.extension_class("Worker", QuickWorker)]

    for hook in (
        strm_extension_classes,
        strm_caches,
        strm_codecs,
        strm_producer_partitioners,
        strm_consumer_schedulers,
        strm_agent_supervisors,
    ):
        setattr(module, hook.__name__, hook)
    monkeypatch.setitem(sys.modules, PLUGIN, module)
    DictCache.STORED.clear()
    for recorded in (RecordingScheduler.ORDERED, RecordingForfeit.CRASHES, QuickWorker.BUILT):
        recorded.clear()
    yield


@pytest.fixture
def broker_url() -> Iterator[str]:
    url = unique_url("hooks-in-use")
    yield url
    drop_broker(url)


async def test_strm_caches_backs_app_cache(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory(plugins=[PLUGIN], cache="dictcache://")
    await app.cache.set("greeting", b"hello")
    assert list(DictCache.STORED.values()) == [b"hello"]
    assert await app.cache.get("greeting") == b"hello"
    await app.cache.delete("greeting")
    assert DictCache.STORED == {}
    backend = app.cache.backend
    assert isinstance(backend, DictCache) and backend.app_id == app.conf.id


async def test_strm_codecs_and_strm_producer_partitioners_shape_what_is_sent(
    strm_app_factory: AppFactory, broker_url: str
) -> None:
    app = strm_app_factory(
        plugins=[PLUGIN], broker=broker_url, topic_partitions=3, producer_partitioner="last"
    )
    topic = app.topic("letters", key_type=str, value_serializer="raw|reversed")
    received: list[Any] = []

    @app.agent(topic)
    async def read(stream: Any) -> None:
        async for value in stream:
            received.append(value)

    async with app.running():
        await topic.send(key="k", value=b"abc")
        await eventually(lambda: received == [b"abc"])
    logs = get_broker(broker_url).topics["letters"].logs
    assert [len(log) for log in logs] == [0, 0, 1]
    assert logs[2][0].value == b"cba"


async def test_strm_consumer_schedulers_orders_the_fetched_batches(
    strm_app_factory: AppFactory, broker_url: str
) -> None:
    app = strm_app_factory(
        plugins=[PLUGIN], broker=broker_url, topic_partitions=2, ConsumerScheduler="recording"
    )
    topic = app.topic("numbers", key_type=str, value_type=str)
    received: list[str] = []

    @app.agent(topic)
    async def read(stream: Any) -> None:
        async for value in stream:
            received.append(value)

    async with app.running():
        for n in range(4):
            await topic.send(key=str(n), value=str(n), partition=n % 2)
        await eventually(lambda: len(received) == 4)
    assert RecordingScheduler.ORDERED, "the kernel never asked the plugin's scheduler"
    assert all(tp.topic == "numbers" for batch in RecordingScheduler.ORDERED for tp in batch)


async def test_strm_agent_supervisors_decides_about_a_crashed_agent(
    strm_app_factory: AppFactory, broker_url: str
) -> None:
    app = strm_app_factory(plugins=[PLUGIN], broker=broker_url)
    topic = app.topic("jobs", key_type=str, value_type=str)

    @app.agent(topic, supervisor_strategy="recording_forfeit")
    async def fragile(stream: Any) -> None:
        async for value in stream:
            raise RuntimeError(f"cannot do {value}")

    async with app.running():
        await topic.send(key="k", value="job-1")
        await eventually(lambda: bool(RecordingForfeit.CRASHES))
    assert RecordingForfeit.CRASHES[0][1] == "cannot do job-1"
    assert RecordingForfeit.CRASHES[0][0].endswith("fragile")


def test_strm_extension_classes_gives_the_worker_that_strm_worker_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("STRM_PLUGINS", raising=False)
    (tmp_path / "quickworkerapp.py").write_text(
        textwrap.dedent(
            f"""
            import strm

            app = strm.App("quick", environ={{}}, entry_points=False, datadir={str(tmp_path)!r})
            """
        )
    )
    monkeypatch.delitem(sys.modules, "quickworkerapp", raising=False)
    with pytest.raises(SystemExit) as info:
        main(["-A", "quickworkerapp", "--plugin", PLUGIN, "--debug", "worker", "--without-web"])
    assert info.value.code == 0, capsys.readouterr().err
    assert QuickWorker.BUILT == [("quick", True)]
