"""Every hook a strm plugin can implement, in one place.

This module is the plugin author's reference: each function below is a pluggy hookspec, and its
docstring says when strm calls it and what it expects back. Implement one with::

    import strm

    @strm.hookimpl
    def strm_stores():
        return [strm.kernel.records.store("mystore", MyStore)]

Hooks are synchronous. Registration hooks return lists of :class:`strm.kernel.records.Provision`;
strm gathers them from every plugin, fills in the providing distribution and refuses two providers
of one name. Asynchronous work belongs in the lifecycle of the objects a plugin provides.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pluggy

from strm.kernel.records import Provision

if TYPE_CHECKING:
    import click

    from strm.kernel.app_protocol import AppLike
    from strm.kernel.settings.setting import Setting
    from strm.kernel.spi import TP
    from strm.web.routes import WebRoute

PROJECT = "strm"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# -- backends, by URL scheme ------------------------------------------------------------------


@hookspec
def strm_transports() -> list[Provision]:
    """Message transports, by URL scheme (``kind='transport'``).

    The ``broker``, ``broker_consumer`` and ``broker_producer`` settings pick one by the scheme of
    their URL (``kafka://host:9092`` picks ``kafka``). The factory is called as
    ``factory(context=..., urls=[...])``, the context a
    :class:`strm.kernel.contexts.TransportContext`, and returns an object implementing
    :class:`strm.kernel.spi.Transport`.
    """


@hookspec
def strm_stores() -> list[Provision]:
    """Table stores, by URL scheme (``kind='store'``).

    The ``store`` setting, or a table's own ``store=``, picks one by scheme. The factory is called
    as ``factory(url=..., context=...)``, the context a :class:`strm.kernel.contexts.StoreContext`
    (the table partition, its options, ``tabledir``, the app's settings), and returns an object
    implementing :class:`strm.kernel.spi.Store`: bytes in, bytes out.
    """


@hookspec
def strm_caches() -> list[Provision]:
    """Cache backends, by URL scheme (``kind='cache'``).

    The ``cache`` setting picks one by scheme. The factory is called as
    ``factory(url=..., context=...)``, the context a :class:`strm.kernel.contexts.CacheContext`, and
    returns an object implementing :class:`strm.kernel.spi.Cache`.
    """


@hookspec
def strm_web_drivers() -> list[Provision]:
    """Web server drivers, by URL scheme (``kind='web'``), picked by the ``web`` setting."""


@hookspec
def strm_web_transports() -> list[Provision]:
    """Web server listening transports, by URL scheme (``kind='web_transport'``).

    Picked by the ``web_transport`` setting: ``tcp://`` or ``unix:///path/to.sock``.
    """


@hookspec
def strm_web_routes(app: AppLike) -> list[WebRoute]:
    """Routes this plugin serves on the app's web server (``/metrics`` for a metrics plugin).

    Called each time the web server starts; return :class:`strm.web.WebRoute` objects
    (``WebRoute('/metrics', MetricsView)``, the view a :class:`strm.web.View` subclass). A path
    the app serves itself keeps the app's view.
    """


# -- named strategies --------------------------------------------------------------------------


@hookspec
def strm_codecs() -> list[Provision]:
    """Codecs, by name (``kind='codec'``).

    Used by ``key_serializer``, ``value_serializer``, a topic's serializers and a model's
    ``serializer=``. Names compose with ``|`` (``'json|binary'``). The factory takes no arguments
    and returns an object implementing :class:`strm.kernel.spi.Codec`.
    """


@hookspec
def strm_agent_supervisors() -> list[Provision]:
    """Agent supervisor strategies, by name (``kind='supervisor'``).

    Picked by the ``agent_supervisor`` setting or an agent's ``supervisor_strategy=``; decides
    what happens when an agent instance raises: restart it, restart its group, forfeit, or crash.
    """


@hookspec
def strm_producer_partitioners() -> list[Provision]:
    """Producer partitioners, by name (``kind='partitioner'``).

    The factory is a function ``(key: bytes | None, all_partitions: list[int],
    available: list[int]) -> int``; the ``producer_partitioner`` setting names one.
    """


@hookspec
def strm_consumer_schedulers() -> list[Provision]:
    """Consumer scheduling strategies, by name (``kind='consumer_scheduler'``).

    A scheduler orders the batches of one fetch across topics and partitions before they reach
    the streams. The factory takes no arguments and returns an object with
    ``order(batches: Mapping[TP, Sequence[Message]]) -> Iterable[tuple[TP, Sequence[Message]]]``;
    the ``ConsumerScheduler`` setting names one (default ``round_robin``) or gives a class.
    """


@hookspec
def strm_sensors() -> list[Provision]:
    """Sensors, by name (``kind='sensor'``): observers of batches, commits and rebalances.

    Every sensor provided by an enabled plugin is attached to ``app.sensors`` when the app is
    configured; the factory is called with the app and returns a :class:`strm.sensors.Sensor`.
    Its callbacks come once per batch (docs/monitoring.md); pulled figures (lag, table sizes)
    come from :func:`strm.runtime.gauges.read_gauges`.
    """


@hookspec
def strm_model_types() -> list[Provision]:
    """Other schema libraries' types as ``key_type``/``value_type``, by name
    (``kind='model_type'``).

    The factory takes no arguments and returns a :class:`strm.kernel.model_types.ModelType`: whether
    it handles a declared type, how to load a decoded payload into it (validating; an error is the
    side's decode error, dead-lettered like a record's), how to dump a value for the codec.
    """


# -- extension classes -------------------------------------------------------------------------


@hookspec
def strm_extension_classes() -> list[Provision]:
    """Classes for the extension settings (``kind='class'``, ``name`` = the setting's name).

    A provision named ``Worker`` supplies the class used when the ``Worker`` setting is left at
    its default. The built-in defaults are registered this way too; a plugin's provision replaces
    a built-in one, and two plugins providing one class is an error. A user's explicit setting
    (a class or a dotted path) always wins over every plugin.
    """


# -- settings and the command line -----------------------------------------------------------


@hookspec
def strm_settings() -> list[Setting]:
    """Settings this plugin owns, with type, default, environment variable and validation.

    They live in ``app.conf`` beside the kernel's and are validated the same way: an unknown
    name, a bad value or a bad environment value is an error naming the setting.
    """


@hookspec
def strm_cli_commands() -> list[click.Command]:
    """Extra ``strm`` sub-commands.

    Collected before the command line is parsed, so a plugin loaded by ``--plugin`` can add
    commands. Use ``strm.cli.context.current_app()`` inside a command to reach the app.
    """


@hookspec
def strm_cli_options() -> list[click.Option]:
    """Extra options of the top-level ``strm`` command.

    An option whose name is a setting (``--my-setting`` for ``my_setting``) sets that setting
    with command-line priority; other values are available to plugin commands through
    ``strm.cli.context.cli_state().plugin_options``.
    """


# -- lifecycle notifications -----------------------------------------------------------------


@hookspec
def strm_app_configured(app: AppLike) -> None:
    """The app's settings are final and its backends resolved; called once per app."""


@hookspec
def strm_worker_starting(app: AppLike) -> None:
    """A worker is about to start the app's services."""


@hookspec
def strm_worker_stopping(app: AppLike) -> None:
    """A worker is stopping the app's services (signal, error or normal end)."""


@hookspec
def strm_worker_processes(app: AppLike, processes: int, environ: dict[str, str]) -> None:
    """``strm worker --processes N`` is about to start its children (called in the parent).

    ``environ`` is the environment every child starts with: add what the children must share,
    such as the directory where a metrics library keeps each process's figures. Called once,
    before any child starts, so it is also the moment to clear what an earlier run left there.
    """


@hookspec
def strm_partitions_assigned(app: AppLike, assigned: Sequence[TP]) -> None:
    """The consumer was assigned these topic partitions (after a rebalance)."""


@hookspec
def strm_partitions_revoked(app: AppLike, revoked: Sequence[TP]) -> None:
    """These topic partitions were taken from the consumer (before a rebalance completes)."""


def hook_names() -> list[str]:
    """The names of every hookspec above, for listings and meta-tests."""
    return sorted(name for name in globals() if name.startswith("strm_"))


__all__ = ["PROJECT", "hook_names", "hookimpl", "hookspec"]
