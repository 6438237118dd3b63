"""``agent.test_context()``: drive an agent with values in a unit test, without a broker.

The agent reads an in-memory channel; ``put`` sends one value and waits until the agent has
finished with it (asked for the next value), re-raising what the agent raised.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import TYPE_CHECKING, Any

from strm.events import Event
from strm.sender import normalize_headers
from strm.spi import TP, Headers, Message

if TYPE_CHECKING:
    from collections.abc import Mapping

    from strm.agents.agent import Agent
    from strm.channels import Channel


class _Completion:
    """Stands in for a partition's progress: completes ``put``'s future when the agent
    acknowledges the event (by asking for the next one)."""

    __slots__ = ("future", "manual")

    def __init__(self, future: asyncio.Future[None]) -> None:
        self.future = future
        self.manual = True

    def ack(self, tp: TP, offset: int) -> None:
        if not self.future.done():
            self.future.set_result(None)


class AgentTestWrapper:
    """What ``async with agent.test_context() as agent:`` gives: ``put`` values in, read
    ``results`` (offset → what the agent yielded, or the value it took if it yields nothing)."""

    def __init__(self, agent: Agent, channel: Channel) -> None:
        self.agent = agent
        self.channel = channel
        self.results: dict[int, Any] = {}
        self.sent_offset = -1
        self.processed_offset = -1
        self._offsets = itertools.count()
        self._pending: dict[int, asyncio.Future[None]] = {}
        self._error: BaseException | None = None

    async def put(
        self,
        value: Any = None,
        key: Any = None,
        partition: int | None = None,
        timestamp: float | None = None,
        headers: Mapping[str, Any] | Headers | None = None,
        *,
        wait: bool = True,
    ) -> Event:
        offset = next(self._offsets)
        message = Message(
            self.channel.label,
            partition or 0,
            offset,
            time.time() if timestamp is None else timestamp,
            None,
            None,
            normalize_headers(headers),
        )
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending[offset] = future
        event = Event(self.agent.app, key, value, message, _Completion(future))
        self.sent_offset = offset
        await self.channel.put(event)
        if not self.agent.yields:
            self.results[offset] = value
        if wait:
            await self._wait(future)
            self.processed_offset = offset
        return event

    async def _wait(self, future: asyncio.Future[None]) -> None:
        actor_task = self.agent.actor_task(0)
        waiters: set[asyncio.Future[Any]] = {future}
        if actor_task is not None:
            waiters.add(actor_task)
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        if not future.done():
            raise RuntimeError(f"agent {self.agent.name} stopped before processing the value")

    def on_result(self, value: Any, event: Event | None) -> None:
        if event is not None:
            self.results[event.message.offset] = value

    def on_error(self, error: BaseException) -> None:
        self._error = error
        for future in self._pending.values():
            if not future.done():
                future.set_result(None)
