"""The plugin manager: one per app, never a module-global one.

It registers the built-in plugins, the entry points of group ``strm``, the plugins named by
``STRM_PLUGINS`` and ``--plugin``, skips those blocked with ``no:NAME``, and then answers what the
plugins provide. Everything a plugin provides is checked at load time: a misspelt hook, a plugin
that fails to import, or two plugins claiming one name is a :class:`PluginError` at start-up.
"""

from __future__ import annotations

import importlib
import importlib.metadata as metadata
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from types import ModuleType
from typing import Any, cast

import pluggy

from strm import hookspecs
from strm.errors import BackendNotFoundError, PluginError
from strm.plugins.builtin import BUILTIN_PLUGINS, ESSENTIAL_PLUGINS
from strm.plugins.known import FIRST_PARTY_PROVISIONS
from strm.records import KINDS, Provision
from strm.settings.setting import Setting
from strm.suggestions import did_you_mean

logger = logging.getLogger("strm.plugins")

ENTRY_POINT_GROUP = "strm"
PLUGINS_ENV = "STRM_PLUGINS"
BUILTIN_DISTRIBUTION = "strm"


@dataclass
class PluginInfo:
    """What ``strm plugins`` shows about one registered plugin."""

    name: str
    module: str
    distribution: str
    version: str
    builtin: bool
    hooks: list[str] = field(default_factory=list)


def parse_selection(specs: Iterable[str]) -> tuple[list[str], set[str]]:
    """Split ``--plugin`` values into plugins to load and names blocked with ``no:``."""
    wanted: list[str] = []
    blocked: set[str] = set()
    for spec in specs:
        spec = spec.strip()
        if not spec:
            continue
        if spec.startswith("no:"):
            blocked.add(spec[3:].strip())
        elif spec not in wanted:
            wanted.append(spec)
    return wanted, blocked


def selection_from_env(environ: Mapping[str, str]) -> list[str]:
    return [part for part in environ.get(PLUGINS_ENV, "").split(",") if part.strip()]


class StrmPluginManager:
    """Loads the plugins of one app and resolves provisions, settings and CLI additions."""

    def __init__(
        self,
        selection: Sequence[str] = (),
        *,
        environ: Mapping[str, str] | None = None,
        entry_points: bool = True,
    ) -> None:
        environ = os.environ if environ is None else environ
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self._info: dict[str, PluginInfo] = {}
        self._provisions: dict[str, dict[str, Provision]] | None = None
        #: (kind, name) -> the plugin whose provision is used.
        self._providers: dict[tuple[str, str], str] = {}
        wanted, self.blocked = parse_selection([*selection_from_env(environ), *selection])
        self._refuse_blocking_essentials()
        self._load_builtins()
        loaded_names = self._load_entry_points() if entry_points else set()
        for spec in wanted:
            if spec not in loaded_names and spec not in self._info:
                self._load_named(spec)
        self._check_pending()

    # -- loading ---------------------------------------------------------------------------------

    def _refuse_blocking_essentials(self) -> None:
        for name in self.blocked & set(ESSENTIAL_PLUGINS):
            raise PluginError(f"plugin {name!r} is essential to strm and cannot be blocked")

    def _load_builtins(self) -> None:
        version = metadata.version("strm")
        for name, module_name in BUILTIN_PLUGINS.items():
            if name in self.blocked:
                continue
            module = importlib.import_module(module_name)
            self._register(module, name, BUILTIN_DISTRIBUTION, version, builtin=True)

    def _load_entry_points(self) -> set[str]:
        seen: dict[str, metadata.EntryPoint] = {}
        for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
            other = seen.get(ep.name)
            if other is not None:
                if _dist_name(other) == _dist_name(ep):
                    continue  # the same distribution seen twice on sys.path
                raise PluginError(
                    f"two installed distributions register a plugin named {ep.name!r}: "
                    f"{_dist_name(other)} and {_dist_name(ep)}; uninstall one of them"
                )
            seen[ep.name] = ep
        for name, ep in seen.items():
            if name in self.blocked:
                continue
            if name in BUILTIN_PLUGINS:
                raise PluginError(
                    f"{_dist_name(ep)} registers a plugin named {name!r}, which is the name of a "
                    "built-in plugin; rename its entry point"
                )
            try:
                plugin = ep.load()
            except Exception as exc:
                raise PluginError(
                    f"plugin {name!r} from {_dist_name(ep)} failed to import "
                    f"({ep.value}): {type(exc).__name__}: {exc}"
                ) from exc
            dist = ep.dist
            self._register(
                plugin, name, _dist_name(ep), dist.version if dist else "", builtin=False
            )
        return set(seen)

    def _load_named(self, spec: str) -> None:
        """Load a ``--plugin`` value that is not an installed entry point: a module path."""
        if spec in self.blocked:
            return
        try:
            module = importlib.import_module(spec)
        except ModuleNotFoundError as exc:
            if exc.name and spec.startswith(exc.name):
                raise PluginError(
                    f"--plugin {spec!r}: no installed plugin has that name and no module has "
                    f"that path; installed plugins: {', '.join(sorted(self._info)) or 'none'}"
                ) from exc
            raise PluginError(f"plugin {spec!r} failed to import: {exc}") from exc
        except Exception as exc:
            raise PluginError(
                f"plugin {spec!r} failed to import: {type(exc).__name__}: {exc}"
            ) from exc
        if self.pm.is_registered(module):
            return  # already loaded by its entry point: --plugin MODULE is then a no-op
        dist, version = _distribution_of(module)
        self._register(module, spec, dist, version, builtin=False)

    def _register(
        self, plugin: Any, name: str, distribution: str, version: str, *, builtin: bool
    ) -> None:
        try:
            self.pm.register(plugin, name=name)
        except ValueError as exc:
            raise PluginError(
                f"plugin {name!r} from {distribution} is registered twice: {exc}"
            ) from None
        module = getattr(plugin, "__name__", type(plugin).__name__)
        self._info[name] = PluginInfo(name, module, distribution, version, builtin)

    def _check_pending(self) -> None:
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            raise PluginError(
                f"plugin {self.pm.get_name(exc.plugin)!r} implements a hook strm does not "
                f"have: {exc}; strm's hooks are: {', '.join(hookspecs.hook_names())}"
            ) from exc

    # -- what plugins provide -------------------------------------------------------------------

    @property
    def hook(self) -> Any:
        return self.pm.hook

    def notify(self, hook_name: str, where: str, **kwargs: Any) -> None:
        """Call every plugin's ``hook_name`` in pluggy's order (``tryfirst``/``trylast`` kept),
        each on its own: one that raises is logged with its traceback and ``where`` it was
        called, and the others still hear of it. For notifications such as rebalances, whose
        listeners must not stop the worker or each other."""
        caller = getattr(self.pm.hook, hook_name)
        impls = caller.get_hookimpls()
        if any(impl.hookwrapper or impl.wrapper for impl in impls):
            # A wrapper must see the whole call: one call, one log line if anything raises.
            calls = [("a plugin", lambda: caller(**kwargs))]
        else:
            calls = [
                (repr(impl.plugin_name), partial(_call_impl, impl, kwargs))
                for impl in reversed(impls)
            ]
        for who, call in calls:
            try:
                call()  # type: ignore[no-untyped-call]
            except Exception:
                logger.exception("%s: %s raised on %s; the worker goes on", who, hook_name, where)

    def plugins(self) -> list[PluginInfo]:
        for info in self._info.values():
            plugin = self.pm.get_plugin(info.name)
            info.hooks = sorted(impl.name for impl in self.pm.get_hookcallers(plugin) or [])
        return list(self._info.values())

    def _provisions_by_kind(self) -> dict[str, dict[str, Provision]]:
        if self._provisions is None:
            self._provisions = {kind: self._collect(kind) for kind in KINDS}
        return self._provisions

    def _collect(self, kind: str) -> dict[str, Provision]:
        chosen: dict[str, Provision] = {}
        builtin_names: set[str] = set()
        hook = getattr(self.pm.hook, KINDS[kind])
        impls = sorted(hook.get_hookimpls(), key=lambda i: not self._info[i.plugin_name].builtin)
        for impl in impls:
            info = self._info[impl.plugin_name]
            for record in _results(impl):
                if not isinstance(record, Provision) or record.kind != kind:
                    raise PluginError(
                        f"plugin {info.name!r} returned {record!r} from {KINDS[kind]}(); "
                        f"expected strm.records.Provision objects of kind {kind!r}"
                    )
                record = record.with_distribution(info.distribution)
                previous = chosen.get(record.name)
                if previous is not None and record.name not in builtin_names:
                    raise PluginError(
                        f"two plugins provide {_describe(kind, record.name)}: "
                        f"{previous.distribution} and {record.distribution}; "
                        "uninstall one of them or block one with --plugin no:NAME"
                    )
                builtin_names.discard(record.name)
                if info.builtin:
                    builtin_names.add(record.name)
                chosen[record.name] = record
                self._providers[kind, record.name] = info.name
        return chosen

    def provisions(self, kind: str) -> dict[str, Provision]:
        """Every provision of one kind, by name."""
        return dict(self._provisions_by_kind()[kind])

    def provider(self, kind: str, name: str) -> PluginInfo | None:
        """The plugin whose provision of this scheme or name is used; ``None`` if none is."""
        self._provisions_by_kind()
        plugin = self._providers.get((kind, name))
        return None if plugin is None else self._info[plugin]

    def check_provisions(self) -> None:
        """Collect every kind once, so duplicate providers fail at start-up."""
        self._provisions_by_kind()

    def resolve(self, kind: str, name: str, *, setting: str, value: Any = None) -> Provision:
        """The provision for a scheme or name, or an error that says how to get it."""
        found = self._provisions_by_kind()[kind].get(name)
        if found is not None:
            return found
        shown = f"{setting} {value!r}" if value is not None else f"{setting} {name!r}"
        installed = sorted(self._provisions_by_kind()[kind])
        dist = FIRST_PARTY_PROVISIONS.get((kind, name))
        if dist is not None:
            raise BackendNotFoundError(
                f"{shown} is provided by {dist}, which is not installed: pip install {dist}"
            )
        first_party = [known for (of, known) in FIRST_PARTY_PROVISIONS if of == kind]
        hint = did_you_mean(
            name, [*installed, *first_party], show=lambda close: self._suggested(kind, close)
        )
        raise BackendNotFoundError(
            f"{shown}: no installed plugin provides {_describe(kind, name)}; "
            f"installed: {', '.join(installed) or 'none'}{hint}"
        )

    def _suggested(self, kind: str, name: str) -> str:
        """A suggested scheme or name, with the install command when its plugin is missing."""
        dist = FIRST_PARTY_PROVISIONS.get((kind, name))
        missing = dist is not None and name not in self._provisions_by_kind()[kind]
        return f"{_quoted(kind, name)} (pip install {dist})" if missing else _quoted(kind, name)

    def settings(self) -> list[Setting]:
        """Settings declared by plugins, each marked with its distribution."""
        out: list[Setting] = []
        for impl in self.pm.hook.strm_settings.get_hookimpls():
            info = self._info[impl.plugin_name]
            for spec in _results(impl):
                if not isinstance(spec, Setting):
                    raise PluginError(
                        f"plugin {info.name!r} returned {spec!r} from strm_settings(); "
                        "expected strm.settings.Setting objects"
                    )
                out.append(_with_distribution(spec, info.distribution))
        return out

    def describe(self) -> list[dict[str, Any]]:
        """The ``strm plugins`` listing: each plugin with its hooks and provisions."""
        kind_of_hook = {hookname: kind for kind, hookname in KINDS.items()}
        listing = []
        for info in self.plugins():
            plugin = self.pm.get_plugin(info.name)
            provided: list[dict[str, str]] = []
            setting_names: list[str] = []
            for hookname in info.hooks:
                for impl in getattr(self.pm.hook, hookname).get_hookimpls():
                    if impl.plugin is not plugin:
                        continue
                    if hookname in kind_of_hook:
                        provided += [{"kind": r.kind, "name": r.name} for r in _results(impl)]
                    elif hookname == "strm_settings":
                        setting_names += [spec.name for spec in _results(impl)]
            listing.append(
                {
                    "name": info.name,
                    "module": info.module,
                    "distribution": info.distribution,
                    "version": info.version,
                    "builtin": info.builtin,
                    "hooks": info.hooks,
                    "provides": provided,
                    "settings": setting_names,
                }
            )
        return listing


def _call_impl(impl: pluggy.HookImpl, kwargs: Mapping[str, Any]) -> None:
    impl.function(**{arg: kwargs[arg] for arg in impl.argnames})


def _results(impl: pluggy.HookImpl) -> list[Any]:
    """Call a registration hookimpl directly; ``None`` counts as nothing provided."""
    result = cast("Iterable[Any] | None", impl.function())
    return list(result or [])


#: The kinds picked by the scheme of a URL setting, shown as ``'scheme://'``.
_SCHEME_KINDS = frozenset({"transport", "store", "cache", "web", "web_transport"})


def _describe(kind: str, name: str) -> str:
    if kind in _SCHEME_KINDS:
        return f"the {kind} scheme {_quoted(kind, name)}"
    if kind == "class":
        return f"the {name} class"
    return f"the {kind.replace('_', ' ')} {name!r}"


def _quoted(kind: str, name: str) -> str:
    return f"'{name}://'" if kind in _SCHEME_KINDS else repr(name)


def _dist_name(ep: metadata.EntryPoint) -> str:
    return ep.dist.name if ep.dist is not None else f"<unknown distribution of {ep.value}>"


def _distribution_of(module: ModuleType) -> tuple[str, str]:
    top = module.__name__.partition(".")[0]
    names = metadata.packages_distributions().get(top, [])
    if names:
        return names[0], metadata.version(names[0])
    return f"module {module.__name__}", ""


def _with_distribution(spec: Setting, distribution: str) -> Setting:
    return spec if spec.distribution != "strm" else replace(spec, distribution=distribution)
