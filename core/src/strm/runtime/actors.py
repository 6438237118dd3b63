"""An agent's running instance: a task over its own stream, which hands what the agent's
function yields to the agent and its crash to the agent's supervisor
(:meth:`strm.agents.agent.Agent._on_crash`)."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from typing import TYPE_CHECKING

from strm.kernel.errors import StrmError

if TYPE_CHECKING:
    from strm.agents.agent import Agent
    from strm.streams import Stream


class Actor:
    """One running instance of an agent: a task over its own stream."""

    def __init__(self, agent: Agent, index: int, stream: Stream) -> None:
        self.agent = agent
        self.index = index
        self.stream = stream
        stream.owner = agent.name  # the sensors' on_agent_batch names it
        self.task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        agent = self.agent
        stream = self.stream
        try:
            result = agent.fun(stream)
            if inspect.isasyncgen(result):
                deliver = agent._deliver
                async for value in result:
                    await deliver(value, stream.current_event)
            elif inspect.isawaitable(result):
                await result
            else:
                raise StrmError(
                    f"agent {agent.name}: its function must be async (async def), "
                    f"got a {type(result).__name__}"
                )
        except asyncio.CancelledError:
            raise
        except Exception as error:
            await agent._on_crash(self, error)
        else:
            await stream.aclose()

    async def stop(self) -> None:
        task = self.task
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.stream.aclose()
        self.retire()

    def retire(self) -> None:
        """Stop counting this instance's stream among its subscription's readers."""
        sub = self.stream.subscription
        if sub is not None and self.stream in sub.readers:
            sub.readers.remove(self.stream)

    async def dead_letter_in_flight(self, error: BaseException) -> None:
        """Log and skip (or dead-letter) the records this instance had not finished."""
        root = self.stream.root
        dead_letters = self.agent.app.dead_letters
        for message in root.in_flight_messages():
            await dead_letters.failed(message, error, self.agent.name)
            root.finish(message)
