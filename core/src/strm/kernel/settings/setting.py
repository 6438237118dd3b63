"""The declaration of one setting: the kernel's catalogue and every plugin use this class."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from strm.kernel.settings.types import SettingType

if TYPE_CHECKING:
    from strm.kernel.settings.conf import Conf


@dataclass(frozen=True)
class Alias:
    """An older name of a setting, with an optional conversion (``producer_linger_ms`` is in
    milliseconds, ``producer_linger`` in seconds)."""

    name: str
    convert: Callable[[Any], Any] | None = None


@dataclass(frozen=True)
class Setting:
    """A setting's name, type, default, environment variable and documentation.

    The default is one of: ``default`` (a plain value), ``default_from`` (the value of another
    setting, as ``broker_consumer`` follows ``broker``) or ``default_factory`` (computed from the
    rest of the configuration, as ``canonical_url`` is from ``web_host`` and ``web_port``).

    ``pending`` names the part of strm that will act on the setting when it does not yet: giving
    such a setting a value other than its default raises
    :class:`strm.kernel.errors.SettingNotSupportedError` instead of being ignored, unless the value
    asks for what strm does anyway (``works_as_is``) or the setting is idle (``idle_when``).
    """

    name: str
    type: SettingType
    doc: str
    default: Any = None
    default_from: str | None = None
    default_factory: Callable[[Conf], Any] | None = None
    env: str | None = None
    section: str = "Common"
    aliases: tuple[Alias, ...] = ()
    pending: str | None = None
    #: Values of a ``pending`` setting that ask for what strm does anyway (``web_enabled=False``
    #: while there is no web server): accepted, never refused.
    works_as_is: tuple[Any, ...] = ()
    #: ``(other, value)``: while setting ``other`` has ``value``, this ``pending`` setting has
    #: nothing to act on (a web port with the web server off), so any value is accepted.
    idle_when: tuple[str, Any] | None = None
    distribution: str = field(default="strm", compare=False)

    def describe_default(self) -> str:
        if self.default_from:
            return f"the value of {self.default_from}"
        if self.default_factory is not None:
            return (self.default_factory.__doc__ or "computed").strip()
        return repr(self.default)
