"""The Agent: an async function over a stream, run as one or more supervised instances.

``@app.agent(topic)`` wraps ``async def fun(stream)``. If ``fun`` is an async generator, each
value it yields goes to the agent's sinks and, when the event being processed was an ``ask``,
back to the asker. An instance that raises is handled by the agent's supervisor; the event it
was processing is logged and skipped or dead-lettered, so one bad record never stops the
partition, and the rest of its batch goes to the restarted instance.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from strm.agents.replies import (
    ReplyPromise,
    new_correlation_id,
    reply_address,
    reply_headers,
)
from strm.agents.supervisors import Decision, Supervisor
from strm.agents.testing import AgentTestWrapper, new_test_wrapper
from strm.channels import Channel, Subscription, Topic
from strm.events import Event, MessageSentCallback, call_when_sent
from strm.kernel.errors import DeadLetterError, StrmError
from strm.kernel.spi import TP, Headers, RecordMetadata
from strm.kernel.transports import TransportError
from strm.runtime.actors import Actor
from strm.runtime.structured_logs import log_position

if TYPE_CHECKING:
    from strm.kernel.app_protocol import AppLike
    from strm.streams import Stream

logger = logging.getLogger("strm.agents")

AgentFun = Callable[["Stream"], Any]
Sink = Any  # an Agent, a Channel/Topic, or a callable
#: Faust's ``on_error``: awaited with the agent and the error when an instance raises.
AgentErrorHandler = Callable[["Agent", BaseException], Awaitable[None]]


class Agent:
    """What ``@app.agent`` returns; call ``send``/``cast``/``ask`` on it to feed it."""

    def __init__(
        self,
        fun: AgentFun,
        *,
        app: AppLike,
        channel: Channel,
        name: str,
        concurrency: int = 1,
        sink: Iterable[Sink] | None = None,
        isolated_partitions: bool = False,
        supervisor_strategy: Any = None,
        help: str | None = None,
        on_error: AgentErrorHandler | None = None,
        use_reply_headers: bool | None = None,
    ) -> None:
        if not (inspect.iscoroutinefunction(fun) or inspect.isasyncgenfunction(fun)):
            raise StrmError(
                f"agent {name}: its function must be 'async def' (a coroutine or an async "
                f"generator), got {fun!r}"
            )
        if concurrency < 1:
            raise StrmError(f"agent {name}: concurrency must be at least 1, got {concurrency}")
        if isolated_partitions and concurrency != 1:
            raise StrmError(f"agent {name}: isolated_partitions=True needs concurrency=1")
        if use_reply_headers is False:
            raise StrmError(
                f"agent {name}: use_reply_headers=False (requests wrapped in an envelope record) "
                "is not supported yet: strm carries the reply address in the headers"
            )
        self.fun = fun
        self.app = app
        self.channel = channel
        self.name = name
        self.concurrency = concurrency
        self.isolated_partitions = isolated_partitions
        self.supervisor_strategy = supervisor_strategy
        self.use_reply_headers = True
        self._on_error = on_error
        self.help = help if help is not None else (inspect.getdoc(fun) or "")
        self._sinks: list[Sink] = list(sink or [])
        self.yields = inspect.isasyncgenfunction(fun)
        if self._sinks and not self.yields:
            raise StrmError(f"agent {name}: sinks need an agent that yields results")
        self._subscription: Subscription | None = None
        self._actors: list[Actor | None] = []
        self._supervisor: Supervisor | None = None
        self._stopping = False
        self._observer: AgentTestWrapper | None = None
        self._isolated: dict[TP, tuple[Actor, Subscription]] = {}

    def __repr__(self) -> str:
        return f"<Agent {self.name} on {self.channel.label}>"

    def __call__(self, stream: Stream) -> Any:
        """Run the agent's function on another stream (reuse its logic): ``agent(stream)`` or,
        as Faust spells it, ``agent(stream=stream)``."""
        return self.fun(stream)

    def info(self) -> dict[str, Any]:
        """The agent's construction arguments, as :meth:`clone` takes them."""
        return {
            "app": self.app,
            "fun": self.fun,
            "name": self.name,
            "channel": self.channel,
            "concurrency": self.concurrency,
            "help": self.help,
            "sink": list(self._sinks),
            "on_error": self._on_error,
            "supervisor_strategy": self.supervisor_strategy,
            "isolated_partitions": self.isolated_partitions,
        }

    def clone(self, *, cls: type[Agent] | None = None, **kwargs: Any) -> Agent:
        """A new agent with this one's arguments, ``kwargs`` overriding them."""
        arguments = {**self.info(), **kwargs}
        fun = arguments.pop("fun")
        return (cls or type(self))(fun, **arguments)

    def stream(self, channel: Channel | None = None) -> Stream:
        """A new stream over the agent's channel (or ``channel``), read apart from the agent."""
        return self.app.stream(channel if channel is not None else self.channel)

    def get_topic_names(self) -> tuple[str, ...]:
        """The names of the topics the agent reads; none for an in-memory channel."""
        channel = self.channel
        return tuple(channel.topics) if isinstance(channel, Topic) else ()

    @property
    def label(self) -> str:
        return f"{type(self).__name__}: {self.name}"

    @property
    def shortlabel(self) -> str:
        return self.label

    def cancel(self) -> None:
        """Cancel the instances running in this process (a stop without waiting for them)."""
        for actor in [*self._actors, *(a for a, _ in self._isolated.values())]:
            if actor is not None and actor.task is not None:
                actor.task.cancel()

    def actor_task(self, index: int) -> asyncio.Task[None] | None:
        actor = self._actors[index] if index < len(self._actors) else None
        return None if actor is None else actor.task

    def test_context(
        self,
        channel: Channel | None = None,
        supervisor_strategy: Any = None,
        on_error: Any = None,
        **kwargs: Any,
    ) -> AgentTestWrapper:
        """A copy of this agent over an in-memory channel, for a unit test::

            async with my_agent.test_context() as agent:
                event = await agent.put('hello')
                assert agent.results[event.message.offset] == 'HELLO'

        What the agent raises is raised by ``put``; its sinks still receive its results.
        """
        return new_test_wrapper(
            self, channel, supervisor_strategy=supervisor_strategy, on_error=on_error, **kwargs
        )

    def add_sink(self, sink: Sink) -> None:
        if not self.yields:
            raise StrmError(f"agent {self.name}: sinks need an agent that yields results")
        if sink not in self._sinks:
            self._sinks.append(sink)

    # -- feeding the agent -----------------------------------------------------------------------

    async def send(
        self,
        *,
        key: Any = None,
        value: Any = None,
        partition: int | None = None,
        timestamp: float | None = None,
        headers: Mapping[str, Any] | Headers | None = None,
        key_serializer: Any = None,
        value_serializer: Any = None,
        callback: MessageSentCallback | None = None,
        reply_to: Agent | Channel | str | None = None,
        correlation_id: str | None = None,
        force: bool = False,
    ) -> Awaitable[RecordMetadata]:
        """Send a record to the agent's channel; with ``reply_to``, ask for a reply there.

        ``callback`` is called with the send's future once the record is sent; ``force`` is
        Faust's "do not buffer", which strm always does: sends go to the producer at once.
        """
        all_headers = list(_header_items(headers))
        if reply_to is not None:
            all_headers += reply_headers(
                _reply_topic_name(reply_to), correlation_id or new_correlation_id()
            )
        sent = await self.channel.send(
            key=key,
            value=value,
            partition=partition,
            timestamp=timestamp,
            headers=all_headers,
            key_serializer=key_serializer,
            value_serializer=value_serializer,
        )
        return call_when_sent(self.app, sent, callback)

    async def cast(
        self,
        value: Any = None,
        *,
        key: Any = None,
        partition: int | None = None,
        timestamp: float | None = None,
        headers: Mapping[str, Any] | Headers | None = None,
    ) -> None:
        """Send without expecting a reply."""
        await self.send(
            key=key, value=value, partition=partition, timestamp=timestamp, headers=headers
        )

    async def ask_nowait(
        self,
        value: Any = None,
        *,
        key: Any = None,
        partition: int | None = None,
        timestamp: float | None = None,
        headers: Mapping[str, Any] | Headers | None = None,
        reply_to: Agent | Channel | str | None = None,
        correlation_id: str | None = None,
        force: bool = False,
    ) -> ReplyPromise:
        """Send a request and return the future of its reply."""
        replies = await self.app.get_replies()
        _check_reply_to(reply_to, replies.topic)
        correlation_id = correlation_id or new_correlation_id()
        promise = replies.expect(correlation_id)
        await self.send(
            key=key,
            value=value,
            partition=partition,
            timestamp=timestamp,
            headers=headers,
            reply_to=replies.topic,
            correlation_id=correlation_id,
        )
        return promise

    async def ask(
        self,
        value: Any = None,
        *,
        key: Any = None,
        partition: int | None = None,
        timestamp: float | None = None,
        headers: Mapping[str, Any] | Headers | None = None,
        reply_to: Agent | Channel | str | None = None,
        correlation_id: str | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Send a request and wait for the agent's reply (what it yields for it)."""
        promise = await self.ask_nowait(
            value,
            key=key,
            partition=partition,
            timestamp=timestamp,
            headers=headers,
            reply_to=reply_to,
            correlation_id=correlation_id,
        )
        return await asyncio.wait_for(promise, timeout)

    async def map(
        self,
        values: AsyncIterable[Any] | Iterable[Any],
        key: Any = None,
        reply_to: Agent | Channel | str | None = None,
    ) -> AsyncIterator[Any]:
        """Ask for every value (all with ``key``); yield the replies as they arrive."""
        async for reply in self.kvmap(_with_key(key, values), reply_to):
            yield reply

    async def kvmap(
        self,
        items: AsyncIterable[tuple[Any, Any]] | Iterable[tuple[Any, Any]] | Mapping[Any, Any],
        reply_to: Agent | Channel | str | None = None,
    ) -> AsyncIterator[Any]:
        """Ask for every (key, value); yield the replies as they arrive."""
        for done in asyncio.as_completed(await self._ask_each(items, reply_to)):
            yield await done

    async def join(
        self,
        values: AsyncIterable[Any] | Iterable[Any],
        key: Any = None,
        reply_to: Agent | Channel | str | None = None,
    ) -> list[Any]:
        """Ask for every value (all with ``key``); return the replies in the order of the
        values."""
        return await self.kvjoin(_with_key(key, values), reply_to)

    async def kvjoin(
        self,
        items: AsyncIterable[tuple[Any, Any]] | Iterable[tuple[Any, Any]] | Mapping[Any, Any],
        reply_to: Agent | Channel | str | None = None,
    ) -> list[Any]:
        """Ask for every (key, value); return the replies in the order of the items."""
        return list(await asyncio.gather(*await self._ask_each(items, reply_to)))

    async def _ask_each(
        self,
        items: AsyncIterable[tuple[Any, Any]] | Iterable[tuple[Any, Any]] | Mapping[Any, Any],
        reply_to: Agent | Channel | str | None,
    ) -> list[ReplyPromise]:
        promises = []
        async for k, v in _pairs(items):
            promises.append(await self.ask_nowait(v, key=k, reply_to=reply_to))
        return promises

    # -- running ---------------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Agent]:
        """Start the agent's instances; stop them on exit."""
        await self.start()
        try:
            yield self
        finally:
            await self.stop()

    async def start(self) -> None:
        self._stopping = False
        self._supervisor = self.app.supervisor_for(self)
        if self.isolated_partitions:
            self._start_isolated()
            return
        sub = self.channel.new_subscription()
        if self.concurrency > 1:
            sub.progress.use_manual_acks()
        self._subscription = sub
        self._actors = [None] * self.concurrency
        for index in range(self.concurrency):
            self._start_actor(index)
        # Let each instance reach its first await, so streams it derives (group_by) subscribe
        # before the consumer joins the group.
        for _ in range(3):
            await asyncio.sleep(0)

    async def stop(self) -> None:
        self._stopping = True
        actors, self._actors = self._actors, []
        for actor in actors:
            if actor is not None:
                await actor.stop()
        if self._subscription is not None:
            self.channel.remove_subscription(self._subscription)
            self._subscription = None
        for tp in list(self._isolated):
            await self._stop_isolated(tp)

    # -- one instance per partition (isolated_partitions=True) -----------------------------------

    def _start_isolated(self) -> None:
        if not isinstance(self.channel, Topic):
            raise StrmError(f"agent {self.name}: isolated_partitions=True needs a topic")
        self.app.conductor.watch_partitions(self.channel, self)

    async def on_partitions_assigned(self, assigned: set[TP]) -> None:
        """Start one instance for each newly assigned partition of the agent's topic."""
        assert isinstance(self.channel, Topic)
        for tp in sorted(assigned):
            if tp.topic in self.channel.topics and tp not in self._isolated:
                sub = self.channel.new_subscription(partition=tp.partition)
                stream = self.app.stream_over(sub)
                actor = Actor(self, 0, stream)
                self._isolated[tp] = (actor, sub)
                actor.task = self.app.runtime.spawn(
                    actor.run(), name=f"strm-agent-{self.name}-{tp.topic}-{tp.partition}"
                )

    async def on_partitions_revoked(self, revoked: set[TP]) -> None:
        """Stop the instances of partitions taken away (their work was committed)."""
        for tp in revoked & set(self._isolated):
            await self._stop_isolated(tp)

    async def _stop_isolated(self, tp: TP) -> None:
        actor, sub = self._isolated.pop(tp)
        await actor.stop()
        self.channel.remove_subscription(sub)

    def _start_actor(self, index: int) -> None:
        sub = self._subscription
        assert sub is not None
        stream = self.app.stream_over(sub, shared=self.concurrency > 1)
        actor = Actor(self, index, stream)
        self._actors[index] = actor
        actor.task = self.app.runtime.spawn(actor.run(), name=f"strm-agent-{self.name}-{index}")

    async def _deliver(self, value: Any, event: Event | None) -> None:
        """Send a yielded value to the sinks and, for a request, back to the asker."""
        if self._observer is not None:
            self._observer.on_result(value, event)
        for sink in self._sinks:
            if isinstance(sink, Agent | Channel):
                await sink.send(value=value)
            else:
                result = sink(value)
                if inspect.isawaitable(result):
                    await result
        address = reply_address(event)
        if address is not None:
            replies = await self.app.get_replies()
            await replies.send_reply(address[0], address[1], value)

    async def _on_crash(self, actor: Actor, error: BaseException) -> None:
        if self._observer is not None:
            self._observer.on_error(error)
            await actor.stream.aclose()
            self._start_actor(actor.index)
            return
        supervisor = self._supervisor
        assert supervisor is not None
        self.app.sensors.on_agent_error(self.name, error)
        if self._on_error is not None:
            await self._on_error(self, error)
        decision = supervisor.on_crash(actor.index, error)
        if self.app.exactly_once and isinstance(error, TransportError):
            # A send that failed in the transaction: skipping the record would lose its output
            # for good. The successor processes it again, in a transaction of its own.
            decision = Decision.CRASH
        in_flight = actor.stream.root.in_flight_messages()
        position = None
        if len(in_flight) == 1:  # with several, the dead-letter lines that follow name each
            failed = in_flight[0]
            position = log_position(failed.topic, failed.partition, failed.offset)
        logger.error(
            "agent %s instance %d raised %s: %s; supervisor decision: %s",
            self.name,
            actor.index,
            type(error).__name__,
            error,
            decision.value,
            exc_info=error,
            extra=position,
        )
        if decision is Decision.CRASH:
            await actor.stream.aclose()
            self.app.crash(error)
            return
        try:
            await actor.dead_letter_in_flight(error)
        except DeadLetterError as lost:  # its offset stays uncommitted: stop, do not skip it
            await actor.stream.aclose()
            self.app.crash(lost)
            return
        await actor.stream.aclose()
        actor.retire()
        if self._stopping:
            return
        isolated = next((tp for tp, (a, _) in self._isolated.items() if a is actor), None)
        if decision in (Decision.RESTART_ONE, Decision.RESTART_ALL):
            n = self.concurrency if decision is Decision.RESTART_ALL and isolated is None else 1
            self.app.sensors.on_agent_restart(self.name, n)
        if isolated is not None:
            await self._restart_isolated(isolated, actor, decision)
            return
        if decision is Decision.RESTART_ONE:
            self._start_actor(actor.index)
        elif decision in (Decision.RESTART_ALL, Decision.STOP_ALL):
            for other in self._actors:
                if other is not None and other is not actor:
                    await other.stop()
            self._actors = [None] * self.concurrency
            if decision is Decision.RESTART_ALL:
                for index in range(self.concurrency):
                    self._start_actor(index)
        else:
            self._actors[actor.index] = None

    async def _restart_isolated(self, tp: TP, actor: Actor, decision: Decision) -> None:
        """Isolated instances are restarted (or given up) one partition at a time, on the
        same subscription, so the records left in its inbox are not lost."""
        _, sub = self._isolated[tp]
        if decision not in (Decision.RESTART_ONE, Decision.RESTART_ALL):
            self._isolated.pop(tp)
            self.channel.remove_subscription(sub)
            return
        replacement = Actor(self, 0, self.app.stream_over(sub))
        self._isolated[tp] = (replacement, sub)
        replacement.task = self.app.runtime.spawn(
            replacement.run(), name=f"strm-agent-{self.name}-{tp.topic}-{tp.partition}"
        )


async def _with_key(
    key: Any, values: AsyncIterable[Any] | Iterable[Any]
) -> AsyncIterator[tuple[Any, Any]]:
    if isinstance(values, AsyncIterable):
        async for value in values:
            yield key, value
    else:
        for value in values:
            yield key, value


async def _pairs(
    items: AsyncIterable[tuple[Any, Any]] | Iterable[tuple[Any, Any]] | Mapping[Any, Any],
) -> AsyncIterator[tuple[Any, Any]]:
    if isinstance(items, AsyncIterable):
        async for pair in items:
            yield pair
    else:
        for pair in items.items() if isinstance(items, Mapping) else items:
            yield pair


def _check_reply_to(reply_to: Agent | Channel | str | None, own: str) -> None:
    """Replies are read from this instance's reply topic only: a request asking for its reply
    elsewhere would wait for ever."""
    if reply_to is not None and _reply_topic_name(reply_to) != own:
        raise StrmError(
            f"reply_to={_reply_topic_name(reply_to)!r}: waiting for replies on a topic other than "
            f"the app's reply topic ({own!r}, the reply_to setting) is not supported yet; "
            f"send with agent.send(reply_to=...) and read that topic instead"
        )


def _header_items(headers: Mapping[str, Any] | Headers | None) -> Iterable[tuple[str, Any]]:
    if not headers:
        return ()
    return headers.items() if isinstance(headers, Mapping) else headers


def _reply_topic_name(reply_to: Agent | Channel | str) -> str:
    if isinstance(reply_to, str):
        return reply_to
    if isinstance(reply_to, Agent):
        reply_to = reply_to.channel
    if isinstance(reply_to, Topic):
        return reply_to.get_topic_name()
    raise StrmError(f"reply_to must be a topic, a topic name or an agent, not {reply_to!r}")
