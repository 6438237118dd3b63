"""A missing source topic on a broker that does not create topics on use is a start-up error
naming the topic, not a worker that waits forever."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from strm.app import App
from strm.builtins.memory_transport import MemoryAdmin, get_broker
from strm.kernel.errors import StrmError
from strm.kernel.spi import TopicSpec


async def _no_auto_create(self: MemoryAdmin) -> bool:
    return False


@pytest.fixture
def no_auto_create(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(MemoryAdmin, "creates_topics_on_use", _no_auto_create)


def _counting_agent(app: App, **topic_options: Any) -> None:
    @app.agent(app.topic("orders", **topic_options))
    async def count(stream: Any) -> None:
        async for _ in stream:
            pass


async def test_the_memory_admin_creates_topics_on_use(make_app: Callable[..., App]) -> None:
    app = make_app().configure()
    assert await app.transport("broker_producer").create_admin().creates_topics_on_use()


async def test_a_missing_source_topic_is_fine_when_the_broker_creates_it(
    make_app: Callable[..., App],
) -> None:
    app = make_app()
    _counting_agent(app)
    async with app.running():
        pass


async def test_a_missing_source_topic_is_a_start_up_error(
    make_app: Callable[..., App], no_auto_create: None
) -> None:
    app = make_app()
    _counting_agent(app)
    with pytest.raises(StrmError, match=r"source topic 'orders' does not exist") as info:
        async with app.running():
            pass
    assert "create it, or pass partitions=N to app.topic('orders', ...)" in str(info.value)


async def test_an_existing_source_topic_passes(
    make_app: Callable[..., App], broker_url: str, no_auto_create: None
) -> None:
    get_broker(broker_url).create_topic(TopicSpec("orders", 2))
    app = make_app()
    _counting_agent(app)
    async with app.running():
        pass


async def test_a_topic_with_partitions_is_created_by_strm(
    make_app: Callable[..., App], broker_url: str, no_auto_create: None
) -> None:
    app = make_app()
    _counting_agent(app, partitions=3)
    async with app.running():
        pass
    assert len(get_broker(broker_url).topics["orders"].logs) == 3


async def test_a_missing_topic_added_later_crashes_the_app(
    make_app: Callable[..., App], broker_url: str, no_auto_create: None
) -> None:
    get_broker(broker_url).create_topic(TopicSpec("orders", 1))
    app = make_app()
    _counting_agent(app)
    with pytest.raises(StrmError, match=r"source topic 'refunds' does not exist"):
        async with app.running():
            assert app.conductor.consumer is not None
            app.topic("refunds").stream()
            error = await asyncio.wait_for(app.wait_crashed(), 10)
            assert isinstance(error, StrmError)


def test_strm_worker_exits_with_code_2(tmp_path: Path) -> None:
    (tmp_path / "srcapp.py").write_text(
        textwrap.dedent(
            """
            import strm
            from strm.builtins.memory_transport import MemoryAdmin

            async def _no(self):
                return False

            MemoryAdmin.creates_topics_on_use = _no
            app = strm.App("srcapp", broker="memory://srcapp", entry_points=False)

            @app.agent(app.topic("orders"))
            async def count(stream):
                async for _ in stream:
                    pass
            """
        )
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "strm",
            "-A",
            "srcapp",
            "--datadir",
            str(tmp_path / "d"),
            "worker",
            "--without-web",
        ],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert "source topic 'orders' does not exist" in result.stderr
    assert "Traceback" not in result.stderr
