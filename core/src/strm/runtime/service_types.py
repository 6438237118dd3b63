"""What mode's services are made of besides the class (:mod:`strm.services`): durations as mode
reads them, the service protocol, a service's background task, and what waiting returns."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, Self, runtime_checkable

if TYPE_CHECKING:
    pass

# -- durations -----------------------------------------------------------------------------------

#: A duration as mode takes it: seconds, a ``timedelta``, or a rate string such as ``"10/m"``.
Seconds = timedelta | float | str

_RATE_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def want_seconds(value: Seconds) -> float:
    """``value`` in seconds. A string is read as mode reads it, as a rate: ``"n/unit"`` is ``n``
    divided by the unit's length in seconds (``"10/m"`` is 1/6), and ``"n"`` is ``n``."""
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, str):
        count, _, unit = value.partition("/")
        divisor = _RATE_UNITS.get(unit.strip() or "s")
        if divisor is None:
            raise ValueError(f"unknown unit in {value!r}: use s, m, h or d, as in '10/m'")
        return float(count) / divisor
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected seconds, a timedelta or a rate string, got {value!r}")
    return float(value)


# -- the protocol --------------------------------------------------------------------------------


@runtime_checkable
class ServiceT(Protocol):
    """What an app and a parent service need of a service; :class:`Service` has it all.
    ``isinstance(x, ServiceT)`` checks that these members exist."""

    @property
    def started(self) -> bool: ...

    @property
    def should_stop(self) -> bool: ...

    @property
    def crashed(self) -> bool: ...

    @property
    def state(self) -> str: ...

    @property
    def label(self) -> str: ...

    @property
    def shortlabel(self) -> str: ...

    async def start(self) -> None: ...

    async def maybe_start(self) -> bool: ...

    async def stop(self) -> None: ...

    async def restart(self) -> None: ...

    def service_reset(self) -> None: ...

    async def wait_until_stopped(self) -> None: ...

    def add_dependency(self, service: ServiceT) -> ServiceT: ...

    async def add_runtime_dependency(self, service: ServiceT) -> ServiceT: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_val: BaseException | None = None,
        exc_tb: TracebackType | None = None,
    ) -> bool | None: ...


# -- background tasks ----------------------------------------------------------------------------


class ServiceTask:
    """A method marked with ``@Service.task``: run in the background while its service runs."""

    def __init__(self, fun: Callable[[Any], Awaitable[None]]) -> None:
        self.fun = fun

    async def __call__(self, service: Any) -> None:
        await self.fun(service)

    def __repr__(self) -> str:
        return repr(self.fun)


class WaitResult(NamedTuple):
    """What :meth:`Service.wait` returns: the awaited result, or ``stopped`` if the service
    stopped first."""

    result: Any
    stopped: bool


class WaitResults(NamedTuple):
    """What :meth:`Service.wait_first` returns: what finished first and their results, or
    ``stopped`` if the service stopped first."""

    done: list[Any]
    results: list[Any]
    stopped: bool


def qualname(obj: Any) -> str:
    return f"{obj.__module__}.{obj.__qualname__}"
