"""The group consumer: :class:`strm.kernel.spi.Consumer` on ``aiokafka.AIOKafkaConsumer``.

Only aiokafka's public API is used, and its assignor interface (:mod:`.assignor`), except where
:mod:`.fetched` has the client make strm's messages itself. The aiokafka
client is created by :meth:`KafkaConsumer.start` (it must be made on the running event loop), so
a consumer can be built and subscribed anywhere. Offsets are committed only by strm, never
automatically.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence, Set
from typing import Any, Literal

from aiokafka import AIOKafkaConsumer, TopicPartition  # type: ignore[import-untyped]
from aiokafka.abc import ConsumerRebalanceListener  # type: ignore[import-untyped]
from aiokafka.errors import (  # type: ignore[import-untyped]
    CommitFailedError,
    ConsumerStoppedError,
    IllegalStateError,
    InconsistentGroupProtocolError,
    KafkaError,
    OffsetOutOfRangeError,
)
from aiokafka.errors import (
    NoOffsetForPartitionError as KafkaNoOffsetForPartitionError,
)
from strm.kernel.assignor import ClusterMap, PartitionAssignor
from strm.kernel.spi import TP, Message, RebalanceListener
from strm.kernel.transports import (
    NoOffsetForPartitionError,
    PartitionNotAssignedError,
    TransportError,
)

from strm_transport_kafka.assignor import PROTOCOL_NAME, StrmAssignor
from strm_transport_kafka.connect import describe, start_client
from strm_transport_kafka.fetched import as_messages, make_messages_directly
from strm_transport_kafka.shares import FairShares

logger = logging.getLogger("strm_transport_kafka")

#: Most records a fetch without a budget returns (the kernel asks for no budget when it reads
#: only changelogs: table recovery, standbys). aiokafka keeps what it prefetched as compact
#: batches and makes Python records only of what a fetch returns; unbounded, a fetch returns
#: all of it: ``consumer_max_fetch_size`` per partition, a million small changelog records and
#: hundreds of MiB of objects at once (``bench/memory.py``).
UNBUDGETED_RECORDS = 10_000

#: How a subscription is given to aiokafka, which takes topic names or one pattern, not both.
Mode = Literal["topics", "pattern", "none"]


def subscription_pattern(topics: Collection[str], pattern: str | None) -> str | None:
    """One regex for aiokafka (which matches from the start of a name) that accepts exactly the
    named ``topics`` and the names ``pattern`` matches in full; ``None`` without a pattern."""
    if pattern is None:
        return None
    re.compile(pattern)  # a bad pattern is the caller's error, raised here as re.error
    if not topics:
        return f"(?:{pattern})\\Z"
    names = "|".join(re.escape(name) for name in sorted(topics))
    return f"(?:{names})\\Z|(?:{pattern})\\Z"


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    """aiokafka's rebalance callbacks, passed on to the consumer as strm partitions."""

    def __init__(self, consumer: KafkaConsumer) -> None:
        self.consumer = consumer

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        # aiokafka calls this at the start of every rebalance, before the JoinGroup.
        self.consumer.assignor.rebalancing()
        await self.consumer._revoked({TP(tp.topic, tp.partition) for tp in revoked})

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        await self.consumer._assigned({TP(tp.topic, tp.partition) for tp in assigned})


class KafkaConsumer:
    """A member of consumer group ``group_id`` reading in batches through aiokafka.

    The kernel's rebalance listener is awaited inside aiokafka's rebalance; an exception it
    raises (which aiokafka would only log) is raised by the next :meth:`getmany` or by
    :meth:`stop`. Stopping revokes the partitions held, as a rebalance would, before leaving.

    The group's partitions are assigned by :class:`StrmAssignor` (:attr:`assignor`), which runs
    ``assignor()`` (the app's ``PartitionAssignor``) when this member leads the group, and
    sends ``changelogs()`` (the app's changelog topics) to the leader. It is the only protocol
    announced, so every member of the group must be a strm worker.
    """

    def __init__(
        self,
        *,
        servers: Sequence[str],
        options: dict[str, Any],
        start_timeout: float,
        assignment_timeout: float,
        assignor: Callable[[], PartitionAssignor] | None = None,
        changelogs: Callable[[], Set[str]] | None = None,
        url: Callable[[], str] | None = None,
    ) -> None:
        self.group_id: str = options["group_id"]
        self.client_id: str = options["client_id"]
        self.servers = list(servers)
        self._options = options
        self._start_timeout = start_timeout
        self._assignment_timeout = assignment_timeout
        self._client: Any = None
        self._state = "new"
        self._topics: frozenset[str] = frozenset()
        self._pattern: str | None = None
        self._listener: RebalanceListener | None = None
        self._applied: tuple[Mode, str | None, tuple[str, ...]] = ("none", None, ())
        self._switching: asyncio.Task[None] | None = None
        self._held: set[TP] = set()  # what the kernel was last told it has
        # Set once the kernel's listener has handled an assignment: aiokafka's start returns
        # as soon as the assignment exists, before the listener has run.
        self._first_assigned = asyncio.Event()
        self._errors: list[BaseException] = []
        self._to_kafka: dict[TP, TopicPartition] = {}
        self._shares = FairShares()
        #: Whether aiokafka makes strm's messages itself (:mod:`.fetched`), once started.
        self.messages_direct = False
        self.assignor = StrmAssignor(
            assignor=assignor, changelogs=changelogs, url=url, on_error=self._errors.append
        )

    def __repr__(self) -> str:
        return (
            f"<KafkaConsumer {self.client_id!r} of group {self.group_id!r} on "
            f"{','.join(self.servers)} ({self._state})>"
        )

    def _ktp(self, tp: TP) -> TopicPartition:
        found = self._to_kafka.get(tp)
        if found is None:
            found = self._to_kafka[tp] = TopicPartition(tp.topic, tp.partition)
        return found

    def _live(self) -> bool:
        """Connected: started, or starting (inside the first rebalance's listener calls)."""
        return self._state in ("starting", "started")

    def _where(self) -> str:
        return f"consumer {self.client_id!r} of group {self.group_id!r} on {','.join(self.servers)}"

    # -- subscription -----------------------------------------------------------------------

    def subscribe(
        self, topics: Collection[str], listener: RebalanceListener, pattern: str | None = None
    ) -> None:
        if isinstance(topics, str):
            raise TypeError(
                f"subscribe() takes a collection of topic names, not the str {topics!r}"
            )
        if self._state == "stopped":
            raise TransportError(f"{self._where()} is stopped")
        wanted = frozenset(topics)
        if pattern is not None:
            re.compile(pattern)
        changed = wanted != self._topics or pattern != self._pattern
        self._topics, self._pattern, self._listener = wanted, pattern, listener
        if self._state == "started" and changed:
            self._apply_subscription()

    def _wanted(self) -> tuple[Mode, str | None, tuple[str, ...]]:
        """The subscription to give aiokafka: its mode, the pattern, the topic names."""
        if self._pattern is not None:
            return ("pattern", subscription_pattern(self._topics, self._pattern), ())
        if self._topics:
            return ("topics", None, tuple(sorted(self._topics)))
        return ("none", None, ())

    def _subscribe_client(self) -> None:
        wanted = self._wanted()
        mode, pattern, topics = wanted
        if mode != self._applied[0] and self._applied[0] != "none":
            self._client.unsubscribe()
        if mode == "pattern":
            self._client.subscribe(pattern=pattern, listener=_Listener(self))
        elif mode == "topics":
            self._client.subscribe(topics=list(topics), listener=_Listener(self))
        self._applied = wanted

    def _apply_subscription(self) -> None:
        """Change the subscription of a started consumer, in a task.

        aiokafka's new subscription starts with no assignment, so neither the kernel's commits
        in ``on_partitions_revoked`` nor aiokafka's own revoke would reach the partitions held:
        they are paused and revoked here first, while the old subscription can still commit,
        and only then is the new subscription given to aiokafka (which rebalances).
        """
        if self._switching is None:
            self._switching = asyncio.get_running_loop().create_task(self._switch())

    async def _switch(self) -> None:
        try:
            while self._state == "started" and self._wanted() != self._applied:
                held = self._assignment_kafka()
                if held:
                    self._client.pause(*held)
                await self._revoked(set(self._held))
                self._subscribe_client()
        except Exception as exc:
            self._errors.append(exc)
        finally:
            self._switching = None

    # -- the kernel's listener ----------------------------------------------------------------

    async def _revoked(self, revoked: set[TP]) -> None:
        revoked &= self._held
        if not revoked or self._listener is None:
            return
        self._held -= revoked
        try:
            await self._listener.on_partitions_revoked(revoked)
        except Exception as exc:
            logger.exception("on_partitions_revoked of %r raised", self)
            self._errors.append(exc)

    async def _assigned(self, assigned: set[TP]) -> None:
        self._held = set(assigned)
        self.assignor.remember(assigned)
        try:
            if self._listener is not None:
                await self._listener.on_partitions_assigned(set(assigned))
        except Exception as exc:
            logger.exception("on_partitions_assigned of %r raised", self)
            self._errors.append(exc)
        finally:
            self._first_assigned.set()

    def _foreign_members(self) -> TransportError:
        return TransportError(
            f"{self._where()} cannot join: the group has members that do not assign with the "
            f"{PROTOCOL_NAME!r} protocol, such as consumers of another program using the group "
            f"id {self.group_id!r}; give the app (or the other program) an id of its own"
        )

    def _raise_errors(self) -> None:
        if self._errors:
            first, *rest = self._errors
            self._errors.clear()
            for other in rest:
                logger.error("also raised in %r: %r", self, other)
            raise first

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect, join the group when subscribed and return once the kernel's listener has
        handled the first assignment (bounded by ``broker_rebalance_timeout`` plus
        ``broker_request_timeout``)."""
        if self._state in ("starting", "started"):
            return
        if self._state == "stopped":
            raise TransportError(f"{self._where()} is stopped and cannot restart")
        self._client = AIOKafkaConsumer(
            bootstrap_servers=self.servers,
            # One protocol only: aiokafka (up to 0.14 at least) sends one JoinGroup per
            # assignor, each with a longer protocol list, and under load the second one lands
            # while the group completes a rebalance, so the broker starts another: a group
            # that rebalances without end (aio-libs/aiokafka#1168).
            partition_assignment_strategy=(self.assignor,),
            **self._options,
        )
        self._state = "starting"  # the listener may use the consumer during the first join
        self._subscribe_client()
        client = self._client

        bound = self._start_timeout + self._assignment_timeout

        async def started_and_assigned() -> None:
            await client.start()
            self.messages_direct = make_messages_directly(client)
            if self._applied[0] != "none":
                await self._first_assigned.wait()

        async def start_bounded() -> None:
            try:
                await asyncio.wait_for(started_and_assigned(), bound)
            except InconsistentGroupProtocolError as exc:
                raise self._foreign_members() from exc
            except TimeoutError:
                raise TransportError(
                    f"{self._where()} got no partition assignment within {bound:g} s "
                    "(broker_request_timeout + broker_rebalance_timeout)"
                ) from None

        try:
            await start_client(
                start_bounded,
                client.stop,
                servers=self.servers,
                options=self._options,
                timeout=self._start_timeout,
                what=f"consumer of group {self.group_id!r}",
            )
        except BaseException:
            self._state = "stopped"
            raise
        self._state = "started"
        if self._wanted() != self._applied:  # subscribed again while starting
            self._apply_subscription()

    async def stop(self) -> None:
        """Revoke the partitions held (the listener may still commit), then leave the group.

        An error raised by the rebalance listener and not yet reported is raised here."""
        if self._state != "started":
            self._state = "stopped"
            return
        try:
            if self._switching is not None:
                await asyncio.wait({self._switching})
            await self._revoked(set(self._held))
        finally:
            self._state = "stopped"
            try:
                await self._client.stop()
            except KafkaError as exc:
                logger.warning("stopping %r: %s", self, describe(exc))
        self._raise_errors()

    # -- fetching -----------------------------------------------------------------------------

    async def getmany(
        self, timeout: float, max_records: int | None = None
    ) -> dict[TP, list[Message]]:
        """With ``max_records``, the records are shared among the partitions (:mod:`.shares`);
        ``broker_max_poll_records``, when set, bounds them too."""
        if self._state != "started":
            raise TransportError(f"{self._where()} is not started")
        if max_records is not None and max_records < 1:
            raise ValueError(f"getmany(max_records={max_records!r}): must be at least 1")
        if self._errors:
            self._raise_errors()
        timeout_ms = max(0, round(timeout * 1000))
        try:
            if max_records is None:
                limit = self._options.get("max_poll_records") or UNBUDGETED_RECORDS
                fetched = await self._client.getmany(timeout_ms=timeout_ms, max_records=limit)
            else:
                poll_limit = self._options.get("max_poll_records") or max_records
                budget = min(max_records, poll_limit)
                fetched = await self._shares.getmany(self._client, timeout_ms, budget)
        except (KafkaNoOffsetForPartitionError, OffsetOutOfRangeError) as exc:
            raise NoOffsetForPartitionError(
                f"{self._where()}: {describe(exc)}; consumer_auto_offset_reset is 'none', so "
                "commit or seek an offset, or set it to 'earliest' or 'latest'"
            ) from exc
        except ConsumerStoppedError:
            raise TransportError(f"{self._where()} is stopped") from None
        except InconsistentGroupProtocolError as exc:
            raise self._foreign_members() from exc
        except KafkaError as exc:
            raise TransportError(f"{self._where()} cannot fetch: {describe(exc)}") from exc
        if self._errors:
            self._raise_errors()
        if not fetched:
            return {}
        return {
            TP(ktp.topic, ktp.partition): as_messages(ktp.topic, ktp.partition, records)
            for ktp, records in fetched.items()
        }

    # -- positions ----------------------------------------------------------------------------

    def _assignment_kafka(self) -> set[TopicPartition]:
        if not self._live():
            return set()
        assigned: set[TopicPartition] = self._client.assignment()
        return assigned

    def assignment(self) -> set[TP]:
        return {TP(tp.topic, tp.partition) for tp in self._assignment_kafka()}

    def standbys(self) -> set[TP]:
        """The assigned changelog partitions this member keeps as standby copies, as the
        group's leader said in this generation's assignment (a subset of :meth:`assignment`)."""
        standbys = self.assignor.standbys
        if not standbys:
            return set()
        return {tp for tp in self.assignment() if tp in standbys}

    def cluster_map(self) -> ClusterMap | None:
        """Who holds what in the whole group, by URL, as the leader's assignment said (``None``
        during a rebalance)."""
        return self.assignor.cluster if self._live() else None

    def _check_assigned(self, tps: Iterable[TP], action: str) -> list[TopicPartition]:
        wanted = list(tps)
        assigned = self._assignment_kafka()
        converted = [self._ktp(tp) for tp in wanted]
        missing = [tp for tp, ktp in zip(wanted, converted, strict=True) if ktp not in assigned]
        if missing:
            shown = ", ".join(str(tuple(tp)) for tp in sorted(missing))
            raise PartitionNotAssignedError(
                f"cannot {action} {shown}: not assigned to {self._where()}"
            )
        return converted

    def pause(self, tps: Iterable[TP]) -> None:
        converted = self._check_assigned(tps, "pause")
        if converted:
            self._shares.resting.forget(converted)
            self._client.pause(*converted)

    def resume(self, tps: Iterable[TP]) -> None:
        converted = self._check_assigned(tps, "resume")
        if converted:
            self._shares.resting.forget(converted)
            self._client.resume(*converted)

    def paused(self) -> set[TP]:
        """The partitions paused by :meth:`pause` (not those resting: :mod:`.shares`)."""
        if self._client is None:
            return set()
        paused = self._client.paused() - self._shares.resting.partitions
        return {TP(tp.topic, tp.partition) for tp in paused}

    def seek(self, tp: TP, offset: int) -> None:
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise ValueError(f"cannot seek {tp} to {offset!r}: an offset is an int >= 0")
        (ktp,) = self._check_assigned([tp], "seek")
        self._client.seek(ktp, offset)

    async def position(self, tp: TP) -> int:
        """The offset of the next record ``getmany`` returns for ``tp`` (asking the group for
        the committed offset, or resetting, when not known yet)."""
        (ktp,) = self._check_assigned([tp], "ask the position of")
        try:
            position: int = await asyncio.wait_for(self._client.position(ktp), self._start_timeout)
        except TimeoutError:
            if self._options["auto_offset_reset"] == "none":
                raise NoOffsetForPartitionError(
                    f"{tp} has no position after {self._start_timeout:g} s: no committed offset "
                    f"in group {self.group_id!r} and consumer_auto_offset_reset is 'none'"
                ) from None
            raise TransportError(
                f"{tp} has no position after {self._start_timeout:g} s ({self._where()})"
            ) from None
        except IllegalStateError as exc:
            raise PartitionNotAssignedError(f"{tp}: {describe(exc)} ({self._where()})") from exc
        except KafkaNoOffsetForPartitionError as exc:
            raise NoOffsetForPartitionError(
                f"{tp} has no committed offset in group {self.group_id!r} and "
                "consumer_auto_offset_reset is 'none'"
            ) from exc
        except KafkaError as exc:
            raise TransportError(f"position of {tp}: {describe(exc)} ({self._where()})") from exc
        return position

    async def commit(self, offsets: Mapping[TP, int]) -> None:
        if not self._live():
            raise TransportError(f"{self._where()} is not started; cannot commit")
        for tp, offset in offsets.items():
            if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
                raise ValueError(f"cannot commit {offset!r} for {tp}: an offset is an int >= 0")
        converted = self._check_assigned(offsets, "commit")
        if not converted:
            return
        try:
            await self._client.commit(
                {ktp: offset for ktp, offset in zip(converted, offsets.values(), strict=True)}
            )
        except IllegalStateError as exc:
            raise PartitionNotAssignedError(
                f"cannot commit: {describe(exc)} ({self._where()})"
            ) from exc
        except CommitFailedError as exc:
            raise TransportError(
                f"{self._where()} could not commit {_show(offsets)}: the group rebalanced and "
                "the partitions may belong to another member now"
            ) from exc
        except KafkaError as exc:
            raise TransportError(
                f"{self._where()} could not commit {_show(offsets)}: {describe(exc)}"
            ) from exc

    async def committed(self, tp: TP) -> int | None:
        self._check_started("read the committed offset of", tp)
        try:
            offset: int | None = await self._client.committed(self._ktp(tp))
        except KafkaError as exc:
            raise TransportError(
                f"committed offset of {tp} in group {self.group_id!r}: {describe(exc)}"
            ) from exc
        return offset

    async def end_offsets(self, tps: Iterable[TP]) -> dict[TP, int]:
        return await self._offsets(tps, "end_offsets")

    async def beginning_offsets(self, tps: Iterable[TP]) -> dict[TP, int]:
        return await self._offsets(tps, "beginning_offsets")

    def highwater(self, tp: TP) -> int | None:
        """The highwater mark of ``tp`` from the last fetch response (strm's Monitor reads it
        for lag at each snapshot: no request), ``None`` before one came or when not live."""
        if not self._live():
            return None
        highwater: int | None = self._client.highwater(self._ktp(tp))
        return highwater

    async def _offsets(self, tps: Iterable[TP], which: str) -> dict[TP, int]:
        wanted = list(tps)
        if not wanted:
            return {}
        self._check_started(f"ask {which.replace('_', ' ')} of", *wanted)
        try:
            found = await getattr(self._client, which)([self._ktp(tp) for tp in wanted])
        except KafkaError as exc:
            raise TransportError(
                f"{which.replace('_', ' ')} of {_show(wanted)}: {describe(exc)} ({self._where()})"
            ) from exc
        return {TP(ktp.topic, ktp.partition): offset for ktp, offset in found.items()}

    def _check_started(self, action: str, *tps: TP) -> None:
        if not self._live():
            raise TransportError(f"{self._where()} is not started; cannot {action} {_show(tps)}")


def _show(tps: Iterable[TP]) -> str:
    return ", ".join(f"{tp.topic}[{tp.partition}]" for tp in tps)


__all__ = ["KafkaConsumer", "subscription_pattern"]
