"""The plugin manager: one per app, never a module-global one.

It registers the built-in plugins, the entry points of group ``strm``, the plugins named by
``STRM_PLUGINS`` and ``--plugin``, skips those blocked with ``no:NAME``, and then answers what the
plugins provide. Everything a plugin provides is checked at load time: a misspelt hook, a plugin
that fails to import, or two plugins claiming one name is a :class:`PluginError` at start-up.

Every hook is called through pluggy (``pm.hook.<name>()``), so ``tryfirst``, ``trylast`` and
wrappers mean what pluggy says they mean. To still name the plugin behind each record, the
manager wraps the registration hookimpls it registers: each wrapped call notes which plugin
returned which objects (see :class:`_Attribution`).
"""

from __future__ import annotations

import importlib
import importlib.metadata as metadata
import logging
import os
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import wraps
from types import ModuleType
from typing import Any

import pluggy

from strm.kernel import hookspecs
from strm.kernel.errors import BackendNotFoundError, PluginError
from strm.kernel.plugins.known import FIRST_PARTY_PROVISIONS
from strm.kernel.records import KINDS, Provision
from strm.kernel.settings.setting import Setting
from strm.kernel.suggestions import did_you_mean

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


#: The hooks whose results are records attributed to the plugin that returned them.
REGISTRATION_HOOKS = frozenset({*KINDS.values(), "strm_settings"})
#: The hooks :meth:`StrmPluginManager.notify` delivers, each hookimpl on its own.
NOTIFICATION_HOOKS = frozenset(
    {
        "strm_app_configured",
        "strm_worker_starting",
        "strm_worker_stopping",
        "strm_partitions_assigned",
        "strm_partitions_revoked",
    }
)

#: How strongly a hookimpl claims a name: pluggy's ``tryfirst`` beats a plain one, which beats
#: ``trylast``.
TRYFIRST, PLAIN, TRYLAST = 0, 1, 2


def _priority(impl: pluggy.HookImpl) -> int:
    return TRYFIRST if impl.tryfirst else TRYLAST if impl.trylast else PLAIN


@dataclass(frozen=True)
class Returned:
    """One object a registration hook returned, with the plugin that returned it (``None`` for
    one a hook wrapper added) and how strongly that hookimpl claims it."""

    item: Any
    plugin: str | None
    priority: int = PLAIN


class _Attribution:
    """Which plugin returned which object during one registration hook call.

    pluggy hands the caller one list per hookimpl and drops ``None`` results, so the lists alone
    cannot be traced back to plugins; the wrapped hookimpls record it here as they return.
    """

    def __init__(self) -> None:
        self._seen: dict[int, list[tuple[Any, str, int]]] = {}

    def note(self, result: Any, plugin: str, priority: int) -> None:
        for item in result:
            self._seen.setdefault(id(item), []).append((item, plugin, priority))

    def take(self, item: Any) -> Returned:
        noted = self._seen.get(id(item))
        if not noted:
            return Returned(item, None)
        _, plugin, priority = noted.pop(0)
        return Returned(item, plugin, priority)


class StrmPluginManager:
    """Loads the plugins of one app and resolves provisions, settings and CLI additions."""

    def __init__(
        self,
        selection: Sequence[str] = (),
        *,
        environ: Mapping[str, str] | None = None,
        entry_points: bool = True,
        command_line: Sequence[str] = (),
        trace: bool = False,
        builtins: Mapping[str, str] | None = None,
        essential: Collection[str] = (),
    ) -> None:
        """``selection`` comes from the app (``App(plugins=...)``), ``command_line`` from
        ``--plugin``, handed over by the command line; ``STRM_PLUGINS`` in ``environ`` comes
        first. ``trace`` logs every hook call and its results to the ``strm.plugins`` logger at
        DEBUG (``--debug``). ``builtins`` names the plugins strm ships (name -> module), of which
        ``essential`` cannot be blocked: the app hands them over (``strm.builtins.plugins``), so
        the kernel knows no built-in plugin by name."""
        self._builtins = dict(builtins or {})
        self._essential = frozenset(essential)
        environ = os.environ if environ is None else environ
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        if trace:
            self.pm.trace.root.setwriter(_log_trace)
            self.pm.enable_tracing()
        self._info: dict[str, PluginInfo] = {}
        self._provisions: dict[str, dict[str, Provision]] | None = None
        #: (kind, name) -> the plugin whose provision is used.
        self._providers: dict[tuple[str, str], str] = {}
        self._attribution: _Attribution | None = None
        #: Where a notification is being delivered, while :meth:`notify` runs.
        self._notifying: str | None = None
        self.selection = [*selection_from_env(environ), *command_line, *selection]
        wanted, self.blocked = parse_selection(self.selection)
        self._refuse_blocking_essentials()
        self._load_builtins()
        loaded_names = self._load_entry_points() if entry_points else set()
        for spec in wanted:
            if spec not in loaded_names and spec not in self._info:
                self._load_named(spec)
        self._check_pending()

    # -- loading ---------------------------------------------------------------------------------

    def _refuse_blocking_essentials(self) -> None:
        for name in self.blocked & self._essential:
            raise PluginError(f"plugin {name!r} is essential to strm and cannot be blocked")

    def _load_builtins(self) -> None:
        version = metadata.version("strm")
        for name, module_name in self._builtins.items():
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
            if name in self._builtins:
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
        for caller in self.pm.get_hookcallers(plugin) or []:
            for impl in caller.get_hookimpls():
                if impl.plugin is plugin and not (impl.hookwrapper or impl.wrapper):
                    self._wrap(caller.name, impl)

    def _wrap(self, hook_name: str, impl: pluggy.HookImpl) -> None:
        """Make ``impl`` tell the manager what it returned (a registration hook) or log what it
        raises while a notification is delivered, and name its plugin in either case."""
        function: Callable[..., Any] = impl.function
        plugin, priority = impl.plugin_name, _priority(impl)
        if hook_name in REGISTRATION_HOOKS:

            @wraps(function)
            def attributed(*args: Any, **kwargs: Any) -> Any:
                try:
                    result = function(*args, **kwargs)
                except PluginError:
                    raise
                except Exception as exc:
                    raise PluginError(
                        f"plugin {plugin!r} raised {type(exc).__name__} in {hook_name}(): {exc}"
                    ) from exc
                if result is None:
                    return None
                if not isinstance(result, list | tuple):
                    raise PluginError(
                        f"plugin {plugin!r} returned {result!r} from {hook_name}(); expected a list"
                    )
                if self._attribution is not None:
                    self._attribution.note(result, plugin, priority)
                return result

            impl.function = attributed  # type: ignore[misc]
        elif hook_name in NOTIFICATION_HOOKS:

            @wraps(function)
            def isolated(*args: Any, **kwargs: Any) -> Any:
                if self._notifying is None:
                    return function(*args, **kwargs)
                try:
                    return function(*args, **kwargs)
                except Exception:
                    logger.exception(
                        "%r: %s raised on %s; the worker goes on",
                        plugin,
                        hook_name,
                        self._notifying,
                    )
                    return None

            impl.function = isolated  # type: ignore[misc]

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
        """Call ``hook_name`` through pluggy (its order, ``tryfirst``/``trylast`` and wrappers
        kept) with each plugin's implementation on its own: one that raises is logged with its
        traceback and ``where`` it was called, and the others still hear of it. For
        notifications such as rebalances, whose listeners must not stop the worker or each
        other."""
        previous, self._notifying = self._notifying, where
        try:
            getattr(self.pm.hook, hook_name)(**kwargs)
        except Exception:
            # Only a wrapper can get here: the hookimpls' own errors are logged by each one.
            logger.exception(
                "a hook wrapper raised on %s of %s; the worker goes on", where, hook_name
            )
        finally:
            self._notifying = previous

    def plugins(self) -> list[PluginInfo]:
        for info in self._info.values():
            plugin = self.pm.get_plugin(info.name)
            info.hooks = sorted(impl.name for impl in self.pm.get_hookcallers(plugin) or [])
        return list(self._info.values())

    def _provisions_by_kind(self) -> dict[str, dict[str, Provision]]:
        if self._provisions is None:
            self._provisions = {kind: self._collect(kind) for kind in KINDS}
        return self._provisions

    def _call_registration(self, hook_name: str) -> list[Returned]:
        """Call a registration hook through pluggy; every object returned, flattened, in the
        order pluggy called the hookimpls (after what any wrapper did to the lists)."""
        attribution = self._attribution = _Attribution()
        try:
            results = getattr(self.pm.hook, hook_name)()
        finally:
            self._attribution = None
        returned: list[Returned] = []
        for result in results:
            if not isinstance(result, list | tuple):
                raise PluginError(
                    f"a hook wrapper of {hook_name}() left {result!r} among the results; "
                    "expected lists"
                )
            returned += [attribution.take(item) for item in result]
        return returned

    def _who(self, returned: Returned, hook_name: str) -> str:
        return (
            f"plugin {returned.plugin!r}"
            if returned.plugin is not None
            else f"a hook wrapper of {hook_name}()"
        )

    def _collect(self, kind: str) -> dict[str, Provision]:
        """The provision used for each name: a plugin's beats a built-in one; between plugins,
        ``tryfirst`` beats plain beats ``trylast``, and two of equal standing are an error."""
        hook_name = KINDS[kind]
        order = {name: index for index, name in enumerate(self._info)}
        candidates: dict[str, list[tuple[tuple[bool, int, int], Returned, Provision]]] = {}
        for index, returned in enumerate(self._call_registration(hook_name)):
            record = returned.item
            if not isinstance(record, Provision) or record.kind != kind:
                raise PluginError(
                    f"{self._who(returned, hook_name)} returned {record!r} from {hook_name}(); "
                    f"expected strm.kernel.records.Provision objects of kind {kind!r}"
                )
            info = self._info.get(returned.plugin) if returned.plugin is not None else None
            if info is not None:
                record = record.with_distribution(info.distribution)
            builtin = info is not None and info.builtin
            rank = (builtin, returned.priority, index)
            candidates.setdefault(record.name, []).append((rank, returned, record))
        chosen: dict[str, Provision] = {}
        for name, found in candidates.items():
            found.sort(key=lambda entry: entry[0])
            rank, returned, record = found[0]
            builtin = rank[0]
            rivals = [] if builtin else [entry for entry in found if entry[0][:2] == rank[:2]]
            if len(rivals) > 1:
                rivals.sort(key=lambda entry: order.get(entry[1].plugin or "", len(order)))
                first, second = rivals[0][2], rivals[1][2]
                raise PluginError(
                    f"two plugins provide {_describe(kind, name)}: "
                    f"{first.distribution} and {second.distribution}; "
                    "uninstall one of them or block one with --plugin no:NAME"
                )
            chosen[name] = record
            if returned.plugin is not None:
                self._providers[kind, name] = returned.plugin
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
        for returned in self._call_registration("strm_settings"):
            spec = returned.item
            if not isinstance(spec, Setting):
                raise PluginError(
                    f"{self._who(returned, 'strm_settings')} returned {spec!r} from "
                    "strm_settings(); expected strm.kernel.settings.Setting objects"
                )
            info = self._info.get(returned.plugin) if returned.plugin is not None else None
            out.append(spec if info is None else _with_distribution(spec, info.distribution))
        return out

    def describe(self) -> list[dict[str, Any]]:
        """The ``strm plugins`` listing: each plugin with its hooks and provisions."""
        provided: dict[str | None, list[dict[str, str]]] = {}
        setting_names: dict[str | None, list[str]] = {}
        for kind, hook_name in KINDS.items():
            for returned in self._call_registration(hook_name):
                record = returned.item
                name = record.name if isinstance(record, Provision) else repr(record)
                provided.setdefault(returned.plugin, []).append({"kind": kind, "name": name})
        for returned in self._call_registration("strm_settings"):
            spec = returned.item
            name = spec.name if isinstance(spec, Setting) else repr(spec)
            setting_names.setdefault(returned.plugin, []).append(name)
        listing = []
        for info in self.plugins():
            listing.append(
                {
                    "name": info.name,
                    "module": info.module,
                    "distribution": info.distribution,
                    "version": info.version,
                    "builtin": info.builtin,
                    "hooks": info.hooks,
                    "provides": provided.get(info.name, []),
                    "settings": setting_names.get(info.name, []),
                }
            )
        return listing


def _log_trace(line: str) -> None:
    logger.debug("%s", line.rstrip("\n"))


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
