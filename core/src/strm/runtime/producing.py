"""The app's producers: the main one (transactional under exactly-once), the ``send_soon``
buffer, and with ``producer_threaded`` a second producer on a thread of its own.

Producers start on first use. A checkpoint asks :meth:`Producers.make_durable` to put
everything the finished events sent on the broker before their offsets are committed.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from strm.kernel.errors import ConfigurationError
from strm.kernel.redaction import redact_url
from strm.kernel.spi import TP, Producer, TransactionalProducer
from strm.kernel.transports.threaded import ThreadedProducer
from strm.runtime.sender import Sender
from strm.runtime.snapshots import TransactionSeal
from strm.runtime.soon import SoonBuffer

if TYPE_CHECKING:
    from strm.kernel.app_protocol import AppLike


def check_threaded_producer(app: AppLike) -> None:
    """``producer_threaded=True`` needs a transport whose producer can run on another thread's
    loop, and cannot be combined with exactly-once (its records would be outside the main
    producer's transaction)."""
    if not app.conf.producer_threaded:
        return
    if app.exactly_once:
        raise ConfigurationError(
            "setting 'producer_threaded': bad value True: with processing_guarantee="
            "'exactly_once' every record must be in the main producer's transaction; "
            "turn one of them off"
        )
    transport = app.transport("broker_producer")
    if not getattr(transport, "producer_runs_in_thread", False):
        raise ConfigurationError(
            "setting 'producer_threaded': bad value True: the transport of "
            f"{redact_url(app.conf.broker_producer[0])!r} cannot run a producer on another thread "
            "(kafka:// can)"
        )


class Producers:
    """Owned by the app; see the module's docstring."""

    def __init__(self, app: AppLike) -> None:
        self.app = app
        self.sender: Sender | None = None
        #: Numbers the checkpoint intervals; keeps a snapshot's transaction to its sends.
        self.seal = TransactionSeal()
        self.soon = SoonBuffer(app, self.seal)
        self.threaded: Sender | None = None
        self._lock: asyncio.Lock | None = None

    async def get_sender(self) -> Sender:
        """The main sender, starting its producer on first use."""
        if self.sender is None:
            async with self._startup_lock():
                if self.sender is None:
                    self.sender = await self._start_main()
        return self.sender

    async def get_soon_sender(self) -> Sender:
        """Where ``send_soon`` records go: the threaded sender, else the main one."""
        if not self.app.conf.producer_threaded:
            return await self.get_sender()
        if self.threaded is None:
            async with self._startup_lock():
                if self.threaded is None:
                    self.threaded = await self._start_threaded()
        return self.threaded

    def _startup_lock(self) -> asyncio.Lock:
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    async def _start_main(self) -> Sender:
        app = self.app
        options: dict[str, Any] = {"client_id": app.conf.broker_client_id}
        if app.exactly_once:
            options["transactional_id"] = self._transactional_id()
        producer = app.transport("broker_producer").create_producer(**options)
        if app.exactly_once and not isinstance(producer, TransactionalProducer):
            raise ConfigurationError(
                "processing_guarantee='exactly_once' needs a transport with "
                f"transactions; {redact_url(app.conf.broker_producer[0])!r} has none"
            )
        await producer.start()
        return Sender(app, producer, app.partitioner, self.seal)

    async def _start_threaded(self) -> Sender:
        app = self.app  # configure() checked the transport (check_threaded_producer)
        transport = app.transport("broker_producer")
        client_id = f"{app.conf.broker_client_id}-threaded"
        producer = ThreadedProducer(
            lambda: transport.create_producer(client_id=client_id),
            name=f"strm-producer-{app.conf.id}",
        )
        await producer.start()
        return Sender(app, producer, app.partitioner, self.seal)

    def _transactional_id(self) -> str:
        """Stable across restarts of one worker (so a restart fences what its predecessor
        left open), distinct between workers: the static member id, else an id kept in the
        worker's data directory."""
        conf = self.app.conf
        instance = conf.consumer_group_instance_id
        if not instance:
            path = conf.appdir / "worker-id"
            if path.exists():
                instance = path.read_text().strip()
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                instance = uuid.uuid4().hex
                path.write_text(instance)
        return f"{conf.id}-{instance}"

    # -- checkpoints -----------------------------------------------------------------------------

    @property
    def in_transaction(self) -> bool:
        return self.sender is not None and self.sender.in_transaction

    def has_pending(self) -> bool:
        """``send_soon`` records not handed over yet (or one that failed to be), or an open
        transaction."""
        return bool(self.soon) or self.soon.failed or self.in_transaction

    async def make_durable(self, offsets: Mapping[TP, int], soon_mark: int | None = None) -> None:
        """Hand over the ``send_soon`` records (the first ``soon_mark`` ever queued, else all),
        release the records held for these offsets (``stream_publish_on_commit``) and flush
        every producer."""
        await self.soon.flush(soon_mark)
        for sender in (self.sender, self.threaded):
            if sender is not None:
                await sender.publish_held(offsets)
                await sender.flush()

    async def commit_transaction(self, offsets: Mapping[TP, int]) -> None:
        await (await self.get_sender()).commit_transaction(offsets, self.app.conf.id)

    def forget_held(self, tps: set[TP]) -> None:
        for sender in (self.sender, self.threaded):
            if sender is not None:
                sender.forget_held(tps)

    async def stop(self) -> None:
        """Hand over the ``send_soon`` records, then flush and stop each producer."""
        try:
            await self.soon.stop()
        finally:
            senders = [s for s in (self.threaded, self.sender) if s is not None]
            self.sender = self.threaded = None
            self.soon = SoonBuffer(self.app, self.seal)
            errors: list[Exception] = []
            for sender in senders:
                producer: Producer = sender.producer
                try:
                    try:
                        await producer.flush()
                    finally:
                        await producer.stop()
                except Exception as exc:
                    errors.append(exc)
            if errors:
                raise errors[0]


__all__ = ["Producers", "check_threaded_producer"]
