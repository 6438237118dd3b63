"""Signals as Faust apps connect to them: ``@app.on_partitions_assigned.connect``.

A receiver is called as ``receiver(sender, *args, signal=signal, **kwargs)``, the sender being
the app, so Faust's receivers (``async def on_assigned(app, assigned, **kwargs)``) run
unchanged. A signal declared on a class (``App.on_configured``) hears every instance; the
instance's copy (:meth:`BaseSignal.with_default_sender`) shares the receivers and adds those
connected to that instance only.

:class:`Signal` receivers may be ``async``; :class:`SyncSignal` receivers are plain functions.
``send`` raises what a receiver raises; the runtime's signals (rebalances, shutdown, produced
messages) use :meth:`Signal.send_supervised`, which logs and goes on, since a listener must not
stop the worker.
"""

from __future__ import annotations

import inspect
import logging
import weakref
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any, Generic, Self, TypeVar

logger = logging.getLogger("strm.signals")

T = TypeVar("T")
Receiver = Callable[..., Any]
_Ref = Callable[[], Receiver | None]


class BaseSignal(Generic[T]):
    """What both kinds share: receivers, per-sender receivers and the default sender."""

    def __init__(
        self,
        *,
        name: str = "",
        owner: type | None = None,
        default_sender: Any = None,
        receivers: list[_Ref] | None = None,
        by_sender: defaultdict[int, list[_Ref]] | None = None,
    ) -> None:
        self.name = name
        self.owner = owner
        self.default_sender = default_sender
        self._receivers: list[_Ref] = receivers if receivers is not None else []
        self._by_sender: defaultdict[int, list[_Ref]] = (
            by_sender if by_sender is not None else defaultdict(list)
        )

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = self.name or name
        self.owner = owner

    def __repr__(self) -> str:
        sender = f" sender={self.default_sender!r}" if self.default_sender is not None else ""
        return f"<{type(self).__name__}: {self.label}{sender}>"

    @property
    def label(self) -> str:
        return f"{self.owner.__qualname__}.{self.name}" if self.owner else self.name

    def with_default_sender(self, sender: Any = None) -> Self:
        """A copy bound to ``sender``: it shares this signal's receivers."""
        return type(self)(
            name=self.name,
            owner=self.owner,
            default_sender=self.default_sender if sender is None else sender,
            receivers=self._receivers,
            by_sender=self._by_sender,
        )

    def connect(
        self, fun: Receiver | None = None, *, weak: bool = False, sender: Any = None
    ) -> Any:
        """Add a receiver; usable as ``@signal.connect`` or ``@signal.connect(sender=x)``."""
        if fun is None:
            return lambda f: self.connect(f, weak=weak, sender=sender)
        ref = _reference(fun, weak)
        sender = self.default_sender if self.default_sender is not None else sender
        if sender is None:
            self._receivers.append(ref)
        else:
            self._by_sender[_identity(sender)].append(ref)
        return fun

    def disconnect(self, fun: Receiver, *, weak: bool = False, sender: Any = None) -> None:
        sender = self.default_sender if self.default_sender is not None else sender
        refs = self._receivers if sender is None else self._by_sender[_identity(sender)]
        refs[:] = [ref for ref in refs if ref() not in (fun, None)]

    def receivers(self, sender: Any) -> Iterator[Receiver]:
        refs = list(self._receivers)
        if sender is not None:
            refs += self._by_sender.get(_identity(sender), [])
        for ref in refs:
            receiver = ref()
            if receiver is not None:
                yield receiver

    @property
    def has_receivers(self) -> bool:
        """Cheap enough for a per-message path: skip building the call when nobody listens."""
        return bool(self._receivers) or any(self._by_sender.values())

    def _log_failure(self, receiver: Receiver) -> None:
        logger.exception(
            "a receiver of %s (%s) raised; the worker goes on",
            self.label,
            getattr(receiver, "__qualname__", repr(receiver)),
        )

    def _sender_and_args(self, args: tuple[Any, ...]) -> tuple[Any, tuple[Any, ...]]:
        if self.default_sender is not None:
            return self.default_sender, args
        if not args:
            raise TypeError(f"{self.label}.send() needs the sender as its first argument")
        return args[0], args[1:]


class Signal(BaseSignal[T]):
    """A signal whose receivers may be coroutine functions (awaited in turn)."""

    async def send(self, *args: Any, **kwargs: Any) -> None:
        sender, args = self._sender_and_args(args)
        for receiver in self.receivers(sender):
            result = receiver(sender, *args, signal=self, **kwargs)
            if inspect.isawaitable(result):
                await result

    async def send_supervised(self, *args: Any, **kwargs: Any) -> None:
        """Like :meth:`send`, but a receiver that raises is logged with its traceback, and the
        others still run."""
        sender, args = self._sender_and_args(args)
        for receiver in self.receivers(sender):
            try:
                result = receiver(sender, *args, signal=self, **kwargs)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                self._log_failure(receiver)

    __call__ = send


class SyncSignal(BaseSignal[T]):
    """A signal of plain-function receivers, sent from synchronous code."""

    def send(self, *args: Any, **kwargs: Any) -> None:
        sender, args = self._sender_and_args(args)
        for receiver in self.receivers(sender):
            receiver(sender, *args, signal=self, **kwargs)

    def send_supervised(self, *args: Any, **kwargs: Any) -> None:
        sender, args = self._sender_and_args(args)
        for receiver in self.receivers(sender):
            try:
                receiver(sender, *args, signal=self, **kwargs)
            except Exception:
                self._log_failure(receiver)

    __call__ = send


def _reference(fun: Receiver, weak: bool) -> _Ref:
    if not weak:
        return lambda: fun
    if inspect.ismethod(fun):
        return weakref.WeakMethod(fun)
    return weakref.ref(fun)


def _identity(sender: Any) -> int:
    if inspect.ismethod(sender):
        return hash((sender.__func__, sender.__self__))
    return hash(sender)


__all__ = ["BaseSignal", "Signal", "SyncSignal"]
