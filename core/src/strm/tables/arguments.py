"""The checks on a table's constructor arguments, made before anything is built.

Faust's table arguments that strm does not act on yet raise here rather than be ignored, and
arguments that contradict each other are named together so the fix is plain.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from strm.kernel.errors import SettingNotSupportedError, StrmError

if TYPE_CHECKING:
    from strm.channels import Topic
    from strm.tables.table import Collection
    from strm.tables.windows import Window

#: Faust's default ``recovery_buffer_size``, the only value strm honours today.
RECOVERY_BUFFER_SIZE = 1000


def check_table_arguments(
    name: str,
    cls: type[Collection],
    *,
    default: Callable[[], Any] | None,
    partitions: int | None,
    changelog_topic: Topic | None,
    recovery_buffer_size: int,
    standby_buffer_size: int | None,
    window: Window | None,
    is_global: bool | None,
) -> int | None:
    """Raise on a bad or unsupported argument; return the partition count the table asks for
    (its own, else its changelog topic's, else ``None`` for the app's default)."""
    if not name or not isinstance(name, str):
        raise StrmError(f"a table needs a name, got {name!r}")
    _refuse_unsupported(name, cls, recovery_buffer_size, standby_buffer_size, window, is_global)
    if changelog_topic is not None and changelog_topic.partitions is not None:
        if partitions is None:
            partitions = changelog_topic.partitions
        elif partitions != changelog_topic.partitions:
            raise StrmError(
                f"table {name!r} has {partitions} partitions, but its changelog_topic "
                f"{changelog_topic.get_topic_name()!r} has {changelog_topic.partitions}: "
                "each table partition is one changelog partition"
            )
    if partitions is not None and partitions < 1:
        raise StrmError(f"table {name!r}: partitions must be at least 1, got {partitions}")
    if default is not None and not callable(default):
        raise StrmError(
            f"table {name!r}: default must be a callable such as int or list, got {default!r}"
        )
    return partitions


def _refuse_unsupported(
    name: str,
    cls: type[Collection],
    recovery_buffer_size: int,
    standby_buffer_size: int | None,
    window: Window | None,
    is_global: bool | None,
) -> None:
    if recovery_buffer_size != RECOVERY_BUFFER_SIZE or standby_buffer_size is not None:
        raise SettingNotSupportedError(
            f"table {name!r}: recovery_buffer_size and standby_buffer_size are not supported "
            "yet: strm writes each fetched batch of changelog records to the store at once"
        )
    if window is not None:
        raise SettingNotSupportedError(
            f"table {name!r}: window= is not supported yet; window the table with "
            "table.tumbling(...), table.hopping(...) or table.using_window(window)"
        )
    if is_global is not None and is_global != cls.is_global:
        kind = "app.GlobalTable" if is_global else "app.Table"
        raise SettingNotSupportedError(
            f"table {name!r}: is_global={is_global} is not supported on {cls.__name__}; "
            f"create the table with {kind}(...)"
        )
