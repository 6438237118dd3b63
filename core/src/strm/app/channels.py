"""An app's channels, topics, streams and agents: what ``app.topic``, ``app.stream`` and
``@app.agent`` make (:class:`strm.app.App`)."""

from __future__ import annotations

import re
from collections.abc import (
    AsyncIterable,
    Awaitable,
    Callable,
    Iterable,
    Mapping,
    Sequence,
)
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from strm.agents.agent import Agent
from strm.agents.supervisors import Supervisor
from strm.channels import Channel, Subscription, Topic
from strm.kernel.errors import ConfigurationError
from strm.kernel.spi import (
    RecordMetadata,
)
from strm.streams import Stream

if TYPE_CHECKING:
    from strm.agents.agent import AgentErrorHandler
    from strm.app import App


def topic(
    self: App,
    *topics: str,
    pattern: str | re.Pattern[str] | None = None,
    schema: Any = None,
    key_type: Any = None,
    value_type: Any = None,
    key_serializer: Any = None,
    value_serializer: Any = None,
    partitions: int | None = None,
    retention: float | timedelta | None = None,
    compacting: bool | None = None,
    deleting: bool | None = None,
    replicas: int | None = None,
    acks: bool = True,
    internal: bool = False,
    config: Mapping[str, Any] | None = None,
    maxsize: int | None = None,
    allow_empty: bool = False,
    has_prefix: bool = False,
) -> Topic:
    """Describe one or more topics (``app.topic('orders', value_type=Order)``)."""
    cls: type[Topic] = self.extension_class("Topic")
    topic = cls(
        self,
        topics=topics,
        pattern=pattern,
        schema=schema,
        key_type=key_type,
        value_type=value_type,
        key_serializer=key_serializer,
        value_serializer=value_serializer,
        partitions=partitions,
        retention=retention,
        compacting=compacting,
        deleting=deleting,
        replicas=replicas,
        acks=acks,
        internal=internal,
        config=config,
        maxsize=maxsize,
        allow_empty=allow_empty,
        has_prefix=has_prefix,
    )
    for name in topics:
        self._topics_by_name.setdefault(name, topic)
    return topic


def channel(
    self: App,
    *,
    schema: Any = None,
    key_type: Any = None,
    value_type: Any = None,
    maxsize: int | None = None,
) -> Channel:
    """An in-memory channel: agents and streams can read it, anything can send to it."""
    return Channel(self, schema=schema, key_type=key_type, value_type=value_type, maxsize=maxsize)


def resolve_channel(self: App, channel: Channel | str) -> Channel:
    """A channel object, or the topic of that name."""
    if isinstance(channel, Channel):
        return channel
    if isinstance(channel, str):
        return self._topics_by_name.get(channel) or self.topic(channel)
    raise TypeError(f"expected a channel, a topic or a topic name, not {channel!r}")


def stream(self: App, source: Channel | str | Iterable[Any] | AsyncIterable[Any]) -> Stream:
    """A stream over a channel, a topic (or its name), or a plain (async) iterable."""
    if isinstance(source, Channel | str):
        return self.stream_over(self.resolve_channel(source).new_subscription())
    cls: type[Stream] = self.extension_class("Stream")
    return cls(self, iterable=source)


def stream_over(self: App, subscription: Subscription, *, shared: bool = False) -> Stream:
    """A stream reading an existing subscription (agents' instances share one)."""
    cls: type[Stream] = self.extension_class("Stream")
    stream = cls(self, subscription=subscription, shared=shared)
    subscription.readers.append(stream)
    return stream


def agent(
    self: App,
    channel: Channel | str | None = None,
    *,
    name: str | None = None,
    concurrency: int = 1,
    supervisor_strategy: Any = None,
    sink: Iterable[Any] | None = None,
    isolated_partitions: bool = False,
    use_reply_headers: bool = True,
    on_error: AgentErrorHandler | None = None,
    help: str | None = None,
    **topic_options: Any,
) -> Callable[[Callable[..., Any]], Agent]:
    """Decorate ``async def fun(stream)`` to run it over a channel or topic.

    Without a channel the agent gets its own internal topic, ``<app id>-<agent name>``;
    a string names a topic; ``topic_options`` (``key_type``, ``value_type``, ``partitions``
    ...) describe that topic. ``on_error(agent, exc)`` is awaited when an instance raises;
    ``help`` is shown by ``strm agents``.
    """

    def decorate(fun: Callable[..., Any]) -> Agent:
        agent_name = name or f"{fun.__module__}.{fun.__qualname__}"
        if agent_name in self.agents:
            raise ConfigurationError(f"two agents are named {agent_name!r}")
        if isinstance(channel, Channel):
            if topic_options:
                raise ConfigurationError(
                    f"agent {agent_name}: topic options {sorted(topic_options)} only apply "
                    "when the agent names its topic"
                )
            source: Channel = channel
        else:
            topic_name = channel or f"{self.conf.id}-{agent_name}"
            source = self.topic(topic_name, internal=channel is None, **topic_options)
        cls: type[Agent] = self.extension_class("Agent")
        agent = cls(
            fun,
            app=self,
            channel=source,
            name=agent_name,
            concurrency=concurrency,
            sink=sink,
            isolated_partitions=isolated_partitions,
            supervisor_strategy=supervisor_strategy,
            on_error=on_error,
            help=help,
            use_reply_headers=use_reply_headers,
        )
        self.agents[agent_name] = agent
        return agent

    return decorate


def supervisor_for(self: App, agent: Agent) -> Supervisor:
    """The supervisor of an agent: its own strategy, else the ``agent_supervisor`` setting."""
    strategy = agent.supervisor_strategy or self.conf.agent_supervisor
    if isinstance(strategy, str):
        strategy = self.plugins.resolve("supervisor", strategy, setting="agent_supervisor").factory
    supervisor: Supervisor = strategy(agent.name)
    return supervisor


async def send(
    self: App,
    channel: Channel | str,
    key: Any = None,
    value: Any = None,
    partition: int | None = None,
    timestamp: float | None = None,
    headers: Mapping[str, Any] | Sequence[tuple[str, bytes]] | None = None,
    key_serializer: Any = None,
    value_serializer: Any = None,
) -> Awaitable[RecordMetadata]:
    """Send one record to a channel, a topic or a topic name."""
    return await self.resolve_channel(channel).send(
        key=key,
        value=value,
        partition=partition,
        timestamp=timestamp,
        headers=headers,
        key_serializer=key_serializer,
        value_serializer=value_serializer,
    )
