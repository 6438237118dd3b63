"""Topic administration: :class:`strm.kernel.spi.Admin` on ``aiokafka.admin.AIOKafkaAdminClient``.

The kernel asks for an admin when it declares a topic and never closes it, so each call opens
its own aiokafka admin client and closes it before returning: nothing is left connected.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic  # type: ignore[import-untyped]
from aiokafka.admin.config_resource import (  # type: ignore[import-untyped]
    ConfigResource,
    ConfigResourceType,
)
from aiokafka.errors import KafkaError, TopicAlreadyExistsError  # type: ignore[import-untyped]
from aiokafka.errors import for_code as error_for_code
from strm.kernel.spi import TopicSpec
from strm.kernel.transports import TransportError

from strm_transport_kafka.connect import describe, start_client

logger = logging.getLogger("strm_transport_kafka.admin")

#: How often a new topic's metadata is asked for until every partition has a leader.
METADATA_POLL = 0.05


class KafkaAdmin:
    """Creates topics and reads their partition counts."""

    def __init__(self, *, servers: Sequence[str], options: dict[str, Any], timeout: float) -> None:
        self.servers = list(servers)
        self._options = options
        self._timeout = timeout

    def __repr__(self) -> str:
        return f"<KafkaAdmin on {','.join(self.servers)}>"

    @contextlib.asynccontextmanager
    async def _client(self) -> AsyncIterator[Any]:
        client = AIOKafkaAdminClient(bootstrap_servers=self.servers, **self._options)
        await start_client(
            client.start,
            client.close,
            servers=self.servers,
            options=self._options,
            timeout=self._timeout,
            what="admin client",
        )
        try:
            yield client
        finally:
            await client.close()

    async def create_topic(self, spec: TopicSpec) -> bool:
        """Create the topic with its partitions, replication factor and configuration;
        ``False`` when it already exists. Returns once the brokers serve its metadata."""
        new = NewTopic(
            spec.name,
            spec.partitions,
            spec.replication_factor,
            topic_configs={str(k): str(v) for k, v in spec.config.items()},
        )
        async with self._client() as client:
            try:
                response = await client.create_topics([new])
            except KafkaError as exc:
                raise self._error(spec, describe(exc)) from exc
            for result in response.to_object()["topic_errors"]:
                error = error_for_code(result["error_code"])
                if error is TopicAlreadyExistsError:
                    return False
                if result["error_code"]:
                    message = result.get("error_message") or error.__name__
                    raise self._error(spec, f"{error.__name__}: {message}")
            await self._wait_for_metadata(client, spec)
        return True

    def _error(self, spec: TopicSpec, cause: str) -> TransportError:
        return TransportError(
            f"cannot create topic {spec.name!r} ({spec.partitions} partitions, replication "
            f"factor {spec.replication_factor}) on {','.join(self.servers)}: {cause}"
        )

    async def _wait_for_metadata(self, client: Any, spec: TopicSpec) -> None:
        """A created topic reaches the brokers' metadata a moment later: wait (bounded by
        ``broker_request_timeout``) so the next client that asks finds all its partitions."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout
        while True:
            try:
                described = await client.describe_topics([spec.name])
            except KafkaError as exc:
                raise self._error(spec, f"created, but {describe(exc)}") from exc
            for topic in described:
                if (
                    topic["error_code"] == 0
                    and len(topic["partitions"]) == spec.partitions
                    and all(p["error_code"] == 0 for p in topic["partitions"])
                ):
                    return
            if loop.time() > deadline:
                raise self._error(
                    spec, f"created, but its partitions had no leader after {self._timeout:g} s"
                )
            await asyncio.sleep(METADATA_POLL)

    async def partition_count(self, topic: str) -> int | None:
        """The partitions of ``topic``, ``None`` when it does not exist (asking never creates
        it: the metadata of every topic is read, not the topic's own)."""
        async with self._client() as client:
            try:
                topics = await client.describe_topics()
            except KafkaError as exc:
                raise TransportError(
                    f"cannot read the metadata of topic {topic!r} on {','.join(self.servers)}: "
                    f"{describe(exc)}"
                ) from exc
        for found in topics:
            if found["topic"] == topic and found["error_code"] == 0:
                return len(found["partitions"])
        return None

    async def creates_topics_on_use(self) -> bool:
        """The broker's ``auto.create.topics.enable`` (``True``, Kafka's default, when it
        cannot be read: the check this answers must not stop a worker on its own)."""
        try:
            async with self._client() as client:
                cluster = await client.describe_cluster()
                broker = cluster["brokers"][0]["node_id"]
                responses = await client.describe_configs(
                    [
                        ConfigResource(
                            ConfigResourceType.BROKER,
                            str(broker),
                            configs={"auto.create.topics.enable": None},
                        )
                    ]
                )
            for response in responses:
                for resource in response.to_object()["resources"]:
                    for entry in resource["config_entries"]:
                        if entry["config_names"] == "auto.create.topics.enable":
                            return str(entry["config_value"]).lower() == "true"
        except Exception as exc:  # any failure means: assume the default
            logger.debug("cannot read auto.create.topics.enable on %s: %s", self, exc)
            return True
        logger.debug("no auto.create.topics.enable in the broker configs of %s", self)
        return True


__all__ = ["KafkaAdmin"]
