"""Setting types: each turns a value from code, a config object or an environment string into
the typed value strm uses, or raises :class:`ValueError` saying what it expected.

The caller adds the setting's name and where the value came from, so messages here describe only
the value.
"""

from __future__ import annotations

import importlib
import json
import logging
import ssl
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta, tzinfo
from enum import Enum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from strm.kernel.redaction import redact_urls
from strm.kernel.settings.faust_paths import strm_class_path, strm_name

_TRUE = {"1", "true", "yes", "on", "y", "t"}
_FALSE = {"0", "false", "no", "off", "n", "f", ""}


class SettingType:
    """Base of the setting types; ``name`` is shown in errors and in the settings reference."""

    name = "any"

    def __init__(self, *, optional: bool = False) -> None:
        self.optional = optional

    def __call__(self, value: Any) -> Any:
        if value is None:
            if self.optional:
                return None
            raise ValueError(f"expected {self.name}, got None")
        return self.coerce(value)

    def coerce(self, value: Any) -> Any:
        return value

    def describe(self) -> str:
        return f"{self.name} or None" if self.optional else self.name


class Bool(SettingType):
    name = "bool"

    def coerce(self, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            text = value.strip().lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
        raise ValueError(f"expected a boolean (true/false, yes/no, on/off, 1/0), got {value!r}")


class Int(SettingType):
    name = "int"

    def __init__(
        self, *, min: int | None = None, max: int | None = None, optional: bool = False
    ) -> None:
        super().__init__(optional=optional)
        self.min, self.max = min, max

    def coerce(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValueError(f"expected an integer, got {value!r}")
        try:
            number = int(value)
        except ValueError:
            raise ValueError(f"expected an integer, got {value!r}") from None
        _check_range(number, self.min, self.max)
        return number


class Float(SettingType):
    name = "float"

    def __init__(self, *, min: float | None = None, optional: bool = False) -> None:
        super().__init__(optional=optional)
        self.min = min

    def coerce(self, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValueError(f"expected a number, got {value!r}")
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"expected a number, got {value!r}") from None
        _check_range(number, self.min, None)
        return number


class Seconds(Float):
    """Seconds as a float, an int, a numeric string or a :class:`datetime.timedelta`."""

    name = "seconds"

    def coerce(self, value: Any) -> float:
        if isinstance(value, timedelta):
            value = value.total_seconds()
        try:
            return super().coerce(value)
        except ValueError as exc:
            if "expected a number" in str(exc):
                raise ValueError(
                    f"expected seconds (a number or a timedelta), got {value!r}"
                ) from None
            raise


class Str(SettingType):
    name = "str"

    def __init__(self, *, choices: Sequence[str] = (), optional: bool = False) -> None:
        super().__init__(optional=optional)
        self.choices = tuple(choices)

    def coerce(self, value: Any) -> str:
        if not isinstance(value, str):
            raise ValueError(f"expected a string, got {value!r}")
        if self.choices and value not in self.choices:
            raise ValueError(f"expected one of {', '.join(self.choices)}; got {value!r}")
        return value


class EnumType(SettingType):
    """An :class:`enum.Enum` member, given as the member or its value (``'exactly_once'``)."""

    def __init__(self, enum: type[Enum], *, optional: bool = False) -> None:
        super().__init__(optional=optional)
        self.enum = enum
        self.name = " | ".join(repr(member.value) for member in enum)

    def coerce(self, value: Any) -> Enum:
        try:
            return self.enum(value.strip() if isinstance(value, str) else value)
        except ValueError:
            raise ValueError(f"expected one of {self.name}, got {value!r}") from None


class PathType(SettingType):
    name = "path"

    def coerce(self, value: Any) -> Path:
        if not isinstance(value, str | Path):
            raise ValueError(f"expected a path, got {value!r}")
        if not str(value):
            raise ValueError("expected a path, got an empty string")
        return Path(value).expanduser()


def url_scheme(url: str) -> str:
    """The scheme of a backend URL: ``'rocksdb'`` for ``'rocksdb:///data'``."""
    return urlsplit(url).scheme


def _quoted(value: Any) -> str:
    """A URL setting's value as an error quotes it: without passwords."""
    return repr(redact_urls(value, every_string=True))


class URL(SettingType):
    """A backend URL such as ``memory://`` or ``redis://localhost:6379/0``; a bare scheme name
    (``'memory'``) is accepted and completed."""

    name = "URL"

    def coerce(self, value: Any) -> str:
        expected = f"expected a URL such as 'scheme://host', got {_quoted(value)}"
        if not isinstance(value, str) or not value.strip():
            raise ValueError(expected)
        text = value.strip()
        if "://" not in text:
            if not text.isidentifier():
                raise ValueError(expected)
            text += "://"
        if not url_scheme(text):
            raise ValueError(expected)
        return text


class URLList(SettingType):
    """One or more URLs: a list, or a string separated by ``;`` or ``,``.

    Entries after the first may omit the scheme (``kafka://a:9092;b:9092``): they take the first
    entry's scheme. Every entry must use the same scheme, since they name one transport.
    """

    name = "URL or list of URLs"

    def coerce(self, value: Any) -> list[str]:
        if isinstance(value, str):
            parts = [part for chunk in value.split(";") for part in chunk.split(",")]
        elif isinstance(value, Sequence) and all(isinstance(part, str) for part in value):
            parts = list(value)
        else:
            raise ValueError(
                f"expected a URL, a ';'-separated string or a list, got {_quoted(value)}"
            )
        parts = [part.strip() for part in parts if part.strip()]
        if not parts:
            raise ValueError(f"expected at least one URL, got {_quoted(value)}")
        first = URL().coerce(parts[0])
        scheme = url_scheme(first)
        urls = [first]
        for part in parts[1:]:
            url = URL().coerce(part if "://" in part else f"{scheme}://{part}")
            if url_scheme(url) != scheme:
                raise ValueError(
                    f"all URLs must use one scheme; got {_quoted(first)} and {_quoted(url)}"
                )
            urls.append(url)
        return urls


def import_by_name(path: str) -> Any:
    """Import ``'pkg.module.Name'`` or ``'pkg.module:Name'`` (``Name`` may be dotted)."""
    if ":" in path:
        module_name, _, attr = path.partition(":")
    else:
        module_name, _, attr = path.rpartition(".")
    if not module_name or not attr:
        raise ValueError(f"expected a dotted path such as 'myproj.module.Name', got {path!r}")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"cannot import module {module_name!r} for {path!r}: {exc}") from None
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ValueError(f"module {module_name!r} has no attribute {attr!r}") from None
    return obj


class ClassRef(SettingType):
    """A class, or the dotted path of one (``'myproj.agents.Agent'``, ``'myproj.agents:Agent'``)."""

    name = "class or dotted path"

    def coerce(self, value: Any) -> type:
        obj = import_by_name(strm_class_path(value)) if isinstance(value, str) else value
        if not isinstance(obj, type):
            raise ValueError(f"expected a class or the dotted path of one, got {value!r}")
        return obj


class CallableRef(SettingType):
    """A callable, the dotted path of one, or a name a plugin registered."""

    name = "callable, dotted path or name"

    def coerce(self, value: Any) -> Callable[..., Any] | str:
        if isinstance(value, str):
            if "." in value or ":" in value:
                obj = import_by_name(value)
                if not callable(obj):
                    raise ValueError(f"{value!r} is not callable")
                return obj  # type: ignore[no-any-return]
            if not value.isidentifier():
                raise ValueError(f"expected a callable, a dotted path or a name, got {value!r}")
            return value
        if not callable(value):
            raise ValueError(f"expected a callable, got {value!r}")
        return value  # type: ignore[no-any-return]


class NameOrClass(SettingType):
    """A name a plugin registered (``'one_for_one'``), a class, or a dotted path to one."""

    name = "name, class or dotted path"

    def coerce(self, value: Any) -> type | str:
        if isinstance(value, str) and value.isidentifier():
            return value
        if isinstance(value, str) and (name := strm_name(value)) is not None:
            return name  # 'mode.OneForOneSupervisor' as Faust projects write it
        return ClassRef().coerce(value)


class CodecRef(SettingType):
    """A codec name (``'json'``, ``'json|binary'``) or an object with ``dumps``/``loads``."""

    name = "codec name or codec"

    def coerce(self, value: Any) -> Any:
        if isinstance(value, str):
            names = [name.strip() for name in value.split("|")]
            if not all(name.isidentifier() for name in names):
                raise ValueError(
                    f"expected a codec name such as 'json' or 'json|binary', got {value!r}"
                )
            return "|".join(names)
        if callable(getattr(value, "dumps", None)) and callable(getattr(value, "loads", None)):
            return value
        raise ValueError(
            f"expected a codec name or an object with dumps() and loads(), got {value!r}"
        )


class MappingType(SettingType):
    """A mapping, or its JSON text (from an environment variable)."""

    name = "mapping"

    def coerce(self, value: Any) -> dict[str, Any]:
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError as exc:
                raise ValueError(f"expected a JSON object, got {value!r}: {exc}") from None
        if not isinstance(value, Mapping):
            raise ValueError(f"expected a mapping, got {value!r}")
        return dict(value)


class LogLevel(SettingType):
    """A logging level: a name (``'WARN'``, ``'info'``) or a number."""

    name = "log level"

    def coerce(self, value: Any) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            name = value.strip().upper()
            if name.isdigit():
                return int(name)
            level = logging.getLevelNamesMapping().get(name)
            if level is not None:
                return level
        names = ", ".join(sorted(logging.getLevelNamesMapping()))
        raise ValueError(f"expected a log level ({names}) or a number, got {value!r}")


class Timezone(SettingType):
    """A :class:`datetime.tzinfo` or an IANA name (``'Europe/Oslo'``), resolved with zoneinfo."""

    name = "timezone"

    def coerce(self, value: Any) -> tzinfo:
        if isinstance(value, tzinfo):
            return value
        if isinstance(value, str) and value.strip():
            try:
                return ZoneInfo(value.strip())
            except (ZoneInfoNotFoundError, ValueError):
                pass
        raise ValueError(
            f"expected a tzinfo or a timezone name such as 'Europe/Oslo', got {value!r}"
        )


class InstanceOf(SettingType):
    """An object of one of the given classes (SSL contexts, credentials, handler lists)."""

    def __init__(self, *classes: type, name: str, optional: bool = False) -> None:
        super().__init__(optional=optional)
        self.classes = classes
        self.name = name

    def coerce(self, value: Any) -> Any:
        if not isinstance(value, self.classes):
            raise ValueError(f"expected {self.name}, got {type(value).__name__}")
        return value


class ListOf(SettingType):
    def __init__(self, item: type, *, name: str, optional: bool = False) -> None:
        super().__init__(optional=optional)
        self.item = item
        self.name = name

    def coerce(self, value: Any) -> list[Any]:
        if isinstance(value, str) or not isinstance(value, Sequence):
            raise ValueError(f"expected {self.name}, got {value!r}")
        bad = [item for item in value if not isinstance(item, self.item)]
        if bad:
            raise ValueError(f"expected {self.name}, got an element {bad[0]!r}")
        return list(value)


class Autodiscover(SettingType):
    """``True``/``False``, a list of package names, or a callable returning one."""

    name = "bool, list of packages or callable"

    def coerce(self, value: Any) -> bool | list[str] | Callable[[], Sequence[str]]:
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            return Bool().coerce(value)
        if callable(value):
            return value  # type: ignore[no-any-return]
        return ListOf(str, name=self.name).coerce(value)


def ssl_context_type(*, optional: bool = True) -> InstanceOf:
    return InstanceOf(ssl.SSLContext, name="ssl.SSLContext", optional=optional)


def _check_range(number: float, low: float | None, high: float | None) -> None:
    if low is not None and number < low:
        raise ValueError(f"must be at least {low}, got {number}")
    if high is not None and number > high:
        raise ValueError(f"must be at most {high}, got {number}")
