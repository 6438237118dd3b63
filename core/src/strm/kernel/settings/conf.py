"""An app's resolved configuration: every setting's typed value and where it came from.

Precedence, highest first: the command line, the environment (``env_prefix`` + the setting's
variable), values given to ``App(...)`` or ``config_from_object``, the default. Values are checked
when given; the configuration is frozen when the worker starts.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from strm.kernel.errors import ConfigurationError, SettingNotSupportedError
from strm.kernel.redaction import redact_urls
from strm.kernel.settings.setting import Alias, Setting
from strm.kernel.settings.types import URL, URLList
from strm.kernel.suggestions import did_you_mean


@dataclass(frozen=True)
class Source:
    """Where a setting's value came from, for error messages and ``strm settings`` listings."""

    kind: str  # 'default', 'argument', 'environment' or 'command line'
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.kind} {self.detail}".strip()


DEFAULT = Source("default")
ARGUMENT = Source("argument")
COMMAND_LINE = Source("command line")


def bad_value(setting: Setting, value: Any, source: Source, reason: str) -> ConfigurationError:
    url_setting = isinstance(setting.type, URL | URLList)
    shown = repr(redact_urls(value, every_string=url_setting))
    if _is_secret(setting.name):
        shown = "<hidden>"
        # The types' reasons quote the value; a secret must not leak through them either.
        reason = reason.replace(repr(value), "<hidden>")
        if str(value) and str(value) in reason:
            reason = f"expected {setting.type.describe()}"
    origin = "" if source.kind == "argument" else f" (from {source})"
    return ConfigurationError(f"setting {setting.name!r}{origin}: bad value {shown}: {reason}")


def _is_secret(name: str) -> bool:
    return any(word in name for word in ("password", "secret", "token", "credentials"))


class Conf:
    """Resolved settings, read as attributes: ``app.conf.broker``."""

    _frozen: bool

    def __init__(
        self,
        *,
        app_id: str,
        specs: Mapping[str, Setting],
        given: Mapping[str, Any],
        environ: Mapping[str, str],
        overrides: Mapping[str, Any] = {},
        unavailable: Mapping[str, str] = {},
        version: str = "",
    ) -> None:
        object.__setattr__(self, "_frozen", False)
        self._specs = dict(specs)
        self._aliases = {
            alias.name: (spec, alias) for spec in specs.values() for alias in spec.aliases
        }
        self._values: dict[str, Any] = {}
        self._sources: dict[str, Source] = {}
        self._name = app_id
        self._strm_version = version
        self._unavailable = dict(unavailable)
        if not isinstance(app_id, str) or not app_id:
            raise ConfigurationError(f"the app id must be a non-empty string, got {app_id!r}")
        explicit = self._canonical(given, ARGUMENT)
        explicit.update(self._canonical(overrides, COMMAND_LINE))
        self._resolve(explicit, environ)

    # -- building --------------------------------------------------------------------------------

    def _canonical(self, given: Mapping[str, Any], source: Source) -> dict[str, tuple[Any, Source]]:
        out: dict[str, tuple[Any, Source]] = {}
        for name, value in given.items():
            if name in self._specs:
                out[name] = (value, source)
            elif name in self._aliases:
                spec, alias = self._aliases[name]
                warnings.warn(
                    f"setting {name!r} is an older name of {spec.name!r}; use {spec.name!r}",
                    DeprecationWarning,
                    stacklevel=4,
                )
                out[spec.name] = (self._convert_alias(spec, alias, value, source), source)
            else:
                raise self.unknown(name)
        return out

    @staticmethod
    def _convert_alias(spec: Setting, alias: Alias, value: Any, source: Source) -> Any:
        if alias.convert is None:
            return value
        try:
            return alias.convert(value)
        except (TypeError, ValueError) as exc:
            reason = f"{exc} (given as {alias.name!r})"
            raise bad_value(spec, value, source, reason) from None

    def unknown(self, name: str) -> ConfigurationError:
        """The error for a setting nobody declares, suggesting the closest names."""
        if name in self._unavailable:
            dist = self._unavailable[name]
            return ConfigurationError(
                f"setting {name!r} belongs to {dist}, which is not installed: pip install {dist}"
            )
        known = [*self._specs, *self._aliases, *self._unavailable]
        return ConfigurationError(f"unknown setting {name!r}{did_you_mean(name, known)}")

    def _resolve(self, explicit: dict[str, tuple[Any, Source]], environ: Mapping[str, str]) -> None:
        prefix_spec = self._specs["env_prefix"]
        prefix = self._take(prefix_spec, explicit, environ, "") or ""
        for spec in self._specs.values():
            if spec.name != "env_prefix":
                self._take(spec, explicit, environ, prefix)
        for spec in self._specs.values():
            if spec.name not in self._values:
                self._derive(spec, set())
        for spec in self._specs.values():
            self._check_supported(spec, self._values[spec.name], self._sources[spec.name])

    def _take(
        self,
        spec: Setting,
        explicit: dict[str, tuple[Any, Source]],
        environ: Mapping[str, str],
        prefix: str,
    ) -> Any:
        env_name = f"{prefix}{spec.env}" if spec.env else None
        name_value = explicit.get(spec.name)
        if name_value and name_value[1] is COMMAND_LINE:
            return self._store(spec, *name_value)
        if env_name and env_name in environ:
            return self._store(spec, environ[env_name], Source("environment", env_name))
        if name_value:
            return self._store(spec, *name_value)
        if spec.default_from is None and spec.default_factory is None:
            default = spec.type(spec.default)
            self._values[spec.name] = default
            self._sources[spec.name] = DEFAULT
            return default
        return None

    def _store(self, spec: Setting, value: Any, source: Source) -> Any:
        try:
            typed = spec.type(value)
        except ValueError as exc:
            raise bad_value(spec, value, source, str(exc)) from None
        self._values[spec.name] = typed
        self._sources[spec.name] = source
        return typed

    def _derive(self, spec: Setting, seen: set[str]) -> Any:
        if spec.name in self._values:
            return self._values[spec.name]
        if spec.name in seen:
            raise ConfigurationError(f"settings {sorted(seen)} default to each other")
        seen.add(spec.name)
        if spec.default_from is not None:
            value = self._derive(self._specs[spec.default_from], seen)
        else:
            assert spec.default_factory is not None
            value = spec.type(spec.default_factory(self))
        self._values[spec.name] = value
        self._sources[spec.name] = DEFAULT
        return value

    def _check_supported(self, spec: Setting, value: Any, source: Source) -> None:
        if not spec.pending or source is DEFAULT or self._is_plain_default(spec, value):
            return
        if value in spec.works_as_is:
            return
        if spec.idle_when is not None:
            other, idle_value = spec.idle_when
            if self._values.get(other) == idle_value:
                return
        origin = "" if source.kind == "argument" else f" (from {source})"
        strm = f"strm {self._strm_version}" if self._strm_version else "strm"
        raise SettingNotSupportedError(
            f"setting {spec.name!r}{origin} is not supported yet by {strm}: "
            f"it arrives with {spec.pending}. Leave it at its default "
            f"({spec.describe_default()}) until then."
        )

    @staticmethod
    def _is_plain_default(spec: Setting, value: Any) -> bool:
        if spec.default_from is not None or spec.default_factory is not None:
            return False
        try:
            return bool(value == spec.type(spec.default))
        except ValueError:
            return False

    # -- reading ---------------------------------------------------------------------------------

    def __getattr__(self, name: str) -> Any:
        values = self.__dict__.get("_values")
        if values is not None and name in values:
            return values[name]
        if name.startswith("_") or values is None:
            raise AttributeError(name)
        raise AttributeError(str(self.unknown(name)))

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            object.__setattr__(self, name, value)
            return
        self.set(name, value)

    def set(self, name: str, value: Any, source: Source = ARGUMENT) -> None:
        """Change one setting after the app was configured, checked like the rest."""
        if self._frozen:
            raise ConfigurationError(
                f"cannot change setting {name!r}: settings are frozen once the worker has started"
            )
        canonical = self._canonical({name: value}, source)
        for key, (raw, src) in canonical.items():
            spec = self._specs[key]
            previous = self._values[key], self._sources[key]
            typed = self._store(spec, raw, src)
            try:
                self._check_supported(spec, typed, src)
                for other in self._specs.values():  # those idle only while ``key`` was as it was
                    if other.idle_when is not None and other.idle_when[0] == key:
                        self._check_supported(
                            other, self._values[other.name], self._sources[other.name]
                        )
            except SettingNotSupportedError:
                self._values[key], self._sources[key] = previous  # a refused value is not kept
                raise
        self._rederive()

    def _rederive(self) -> None:
        """Defaults computed from other settings follow them: after ``--web-port 6067``,
        ``canonical_url`` (left at its default) names port 6067, as if given at start."""
        derived = [
            spec
            for spec in self._specs.values()
            if self._sources[spec.name] is DEFAULT
            and (spec.default_from is not None or spec.default_factory is not None)
        ]
        for spec in derived:
            del self._values[spec.name]
        for spec in derived:
            self._derive(spec, set())

    def freeze(self) -> None:
        self._frozen = True

    @property
    def frozen(self) -> bool:
        return self._frozen

    def source_of(self, name: str) -> Source:
        return self._sources[name]

    def specs(self) -> Mapping[str, Setting]:
        return self._specs

    def __iter__(self) -> Iterator[str]:
        return iter(self._specs)

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def as_dict(self) -> dict[str, Any]:
        return dict(self._values)

    # -- derived values --------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The app id as given, without the version."""
        return self._name

    @property
    def id(self) -> str:
        """The effective app id: ``id_format`` applied when ``version`` is above 1."""
        version: int = self._values["version"]
        if version <= 1:
            return self._name
        fmt: str = self._values["id_format"]
        try:
            return fmt.format(id=self._name, self=self)
        except (KeyError, AttributeError, IndexError, ValueError) as exc:
            raise ConfigurationError(f"setting 'id_format': cannot format {fmt!r}: {exc}") from None

    def _template(self, setting: str) -> Path:
        raw = str(self._values[setting])
        try:
            return Path(raw.format(conf=self))
        except (KeyError, AttributeError, IndexError, ValueError) as exc:
            raise ConfigurationError(f"setting {setting!r}: cannot format {raw!r}: {exc}") from None

    @property
    def datadir(self) -> Path:
        """The data directory, with ``{conf.name}``-style placeholders filled in."""
        return self._template("datadir")

    @property
    def appdir(self) -> Path:
        """The data directory of this app version: ``datadir/v<version>``."""
        return self.datadir / f"v{self._values['version']}"

    @property
    def tabledir(self) -> Path:
        """Where table stores keep their files; a relative ``tabledir`` is under ``appdir``."""
        path = self._template("tabledir")
        return path if path.is_absolute() else self.appdir / path

    def __repr__(self) -> str:
        frozen = " (frozen)" if self._frozen else ""
        return f"<Conf {self._name!r}: {len(self._specs)} settings{frozen}>"
