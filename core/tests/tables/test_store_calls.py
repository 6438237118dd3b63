"""The rules strm.kernel.spi.Store states, checked against what the kernel really does: a store
provided by a plugin's ``strm_stores`` is opened with the documented keywords on the event
loop's thread, written by ``write_batch`` on another thread, and closed after its last write."""

from __future__ import annotations

import sys
import threading
import types
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import strm
from strm.app import App
from strm.builtins.memory_store import MemoryStore
from strm.kernel import records
from strm.kernel.contexts import StoreContext
from strm.testing import eventually

PLUGIN = "strm_store_calls_recorder"

#: (method, thread ident) for every call on every recording store, in order.
CALLS: list[tuple[str, int]] = []
OPENED: list[dict[str, Any]] = []


class RecordingStore(MemoryStore):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__()
        OPENED.append(kwargs)
        self._note("open")

    def _note(self, method: str) -> None:
        CALLS.append((method, threading.get_ident()))

    def get(self, key: bytes) -> bytes | None:
        self._note("get")
        return super().get(key)

    def write_batch(self, *args: Any, **kwargs: Any) -> None:
        self._note("write_batch")
        super().write_batch(*args, **kwargs)

    def applied_offset(self, tp: Any) -> int | None:
        self._note("applied_offset")
        return super().applied_offset(tp)

    def close(self) -> None:
        self._note("close")


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, int]]]:
    module = types.ModuleType(PLUGIN)

    @strm.hookimpl
    def strm_stores() -> list[strm.Provision]:
        return [records.store("recording", RecordingStore)]

    module.strm_stores = strm_stores  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, PLUGIN, module)
    CALLS.clear()
    OPENED.clear()
    yield CALLS
    CALLS.clear()
    OPENED.clear()


async def test_the_kernel_calls_a_plugins_store_as_the_contract_says(
    make_app: Callable[..., App], recorder: list[tuple[str, int]]
) -> None:
    app = make_app("calls", plugins=[PLUGIN], store="recording://", broker_commit_interval=3600.0)
    words = app.topic("words", key_type=str, value_type=str)
    counts = app.Table("counts", default=int, partitions=2)
    seen: list[str] = []

    @app.agent(words)
    async def count(stream: Any) -> None:
        async for word in stream:
            counts[word] += 1
            seen.append(word)

    loop_thread = threading.get_ident()
    async with app.running():
        for word in ["a", "b", "a"]:
            await words.send(key=word, value=word)
        await eventually(lambda: len(seen) == 3)
        await app.conductor.checkpoint()
        assert counts["a"] == 2
    assert OPENED, "the kernel never opened the plugin's store"
    for opened in OPENED:
        assert set(opened) == {"url", "context"}, "the factory gets a context, not the app"
        assert opened["url"] == "recording://"
        context = opened["context"]
        assert isinstance(context, StoreContext)
        assert (context.app_id, context.table_name) == (app.conf.id, "counts")
        assert context.partition in (0, 1)
        assert dict(context.options) == {}
        assert context.tabledir == app.conf.tabledir
        assert context.conf is app.conf
    writes = [ident for method, ident in recorder if method == "write_batch"]
    assert writes, "the checkpoint wrote nothing"
    assert all(ident != loop_thread for ident in writes), "write_batch ran on the loop thread"
    others = {(method, ident) for method, ident in recorder if method != "write_batch"}
    assert {ident for _, ident in others} == {loop_thread}, others
    methods = [method for method, _ in recorder]
    assert "close" in methods
    last_write = max(i for i, m in enumerate(methods) if m == "write_batch")
    assert methods.index("close") > last_write, methods
