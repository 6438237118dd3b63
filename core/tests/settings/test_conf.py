"""How an app's configuration is resolved, checked and frozen
(``strm.kernel.settings.conf.Conf``)."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from strm import App
from strm.kernel.errors import ConfigurationError, PluginError, SettingNotSupportedError
from strm.kernel.settings.catalogue import KERNEL_SETTINGS, ProcessingGuarantee
from strm.kernel.settings.conf import Conf, Source
from strm.kernel.settings.setting import Alias, Setting
from strm.kernel.settings.types import Int, Seconds
from strm.worker import Worker

MakeModule = Callable[[str, str], str]  # the make_module fixture of conftest.py
SPECS: dict[str, Setting] = {spec.name: spec for spec in KERNEL_SETTINGS}
#: The catalogue with nothing pending, to test the machinery apart from what strm supports yet.
ALL_SUPPORTED: dict[str, Setting] = {name: replace(s, pending=None) for name, s in SPECS.items()}
#: A setting whose older name converts its value, as a plugin may declare (the Kafka transport's
#: ``producer_linger_ms`` in milliseconds for ``producer_linger`` in seconds): no kernel setting
#: has one, the machinery is the kernel's.
LINGER = Setting(
    "linger",
    Seconds(min=0),
    "How long to wait.",
    default=0.0,
    aliases=(Alias("linger_ms", lambda value: float(value) / 1000.0),),
)
WITH_CONVERSION: dict[str, Setting] = {**ALL_SUPPORTED, LINGER.name: LINGER}


def make_conf(
    given: dict[str, Any] | None = None,
    environ: dict[str, str] | None = None,
    *,
    specs: dict[str, Setting] = SPECS,
    overrides: dict[str, Any] | None = None,
) -> Conf:
    return Conf(
        app_id="x",
        specs=specs,
        given=given or {},
        environ=environ or {},
        overrides=overrides or {},
    )


def make_app(environ: dict[str, str] | None = None, **settings: Any) -> App:
    return App("x", environ=environ or {}, entry_points=False, **settings)


# -- precedence -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwarg", "config", "env", "override", "expected", "source"),
    [
        (None, None, None, None, 1, Source("default")),
        (2, None, None, None, 2, Source("argument")),
        (None, 3, None, None, 3, Source("argument")),
        (2, 3, None, None, 3, Source("argument")),  # the later of the two
        (2, 3, "4", None, 4, Source("environment", "APP_VERSION")),
        (None, None, "4", None, 4, Source("environment", "APP_VERSION")),
        (2, 3, "4", 5, 5, Source("command line")),
        (None, None, None, 5, 5, Source("command line")),
    ],
)
def test_precedence(
    kwarg: int | None,
    config: int | None,
    env: str | None,
    override: int | None,
    expected: int,
    source: Source,
) -> None:
    app = make_app({"APP_VERSION": env} if env else {}, **({"version": kwarg} if kwarg else {}))
    if config is not None:
        app.config_from_object({"version": config})
    if override is not None:
        app.override_settings(version=override)
    assert app.conf.version == expected
    assert app.conf.source_of("version") == source


def test_a_command_line_override_after_configuration_is_still_a_command_line_value() -> None:
    app = make_app({"APP_VERSION": "4"})
    assert app.conf.version == 4
    app.override_settings(version=6)
    assert app.conf.version == 6
    assert app.conf.source_of("version") == Source("command line")


def test_environment_beats_arguments_for_every_kind_of_value() -> None:
    conf = make_conf(
        {"debug": False, "datadir": "/from/code", "broker": "kafka://code:9092"},
        {"APP_DEBUG": "yes", "APP_DATADIR": "/from/env", "BROKER_URL": "kafka://env:9092"},
    )
    assert conf.debug is True
    assert conf.datadir == Path("/from/env")
    assert conf.broker == ["kafka://env:9092"]


# -- env_prefix -----------------------------------------------------------------------------------


def test_env_prefix_given_as_argument_prefixes_every_lookup() -> None:
    environ = {
        "MYAPP_APP_VERSION": "4",
        "APP_VERSION": "9",
        "MYAPP_BROKER_URL": "kafka://mine:9092",
        "BROKER_URL": "kafka://other:9092",
        "APP_DEBUG": "yes",
    }
    conf = make_conf({"env_prefix": "MYAPP_"}, environ)
    assert conf.version == 4
    assert conf.broker == ["kafka://mine:9092"]
    assert conf.debug is False  # unprefixed variables are not read any more
    assert conf.source_of("version") == Source("environment", "MYAPP_APP_VERSION")


def test_env_prefix_from_app_env_prefix() -> None:
    environ = {
        "APP_ENV_PREFIX": "SVC_",
        "SVC_APP_DATADIR": "/data/svc",
        "APP_DATADIR": "/data/wrong",
    }
    app = make_app(environ, env_prefix="IGNORED_")
    assert app.conf.env_prefix == "SVC_"
    assert app.conf.source_of("env_prefix") == Source("environment", "APP_ENV_PREFIX")
    assert app.conf.datadir == Path("/data/svc")


def test_without_env_prefix_names_are_unprefixed() -> None:
    conf = make_conf(environ={"SVC_APP_VERSION": "4"})
    assert conf.env_prefix is None
    assert conf.version == 1


# -- id, version, directories ---------------------------------------------------------------------


def test_version_1_keeps_the_id() -> None:
    conf = make_app(id_format="{id}.{self.version}").conf
    assert conf.id == "x"
    assert conf.name == "x"


def test_version_above_1_formats_the_id() -> None:
    conf = make_app(version=3).conf
    assert conf.id == "x-v3"
    assert conf.name == "x"


def test_app_version_from_the_environment_changes_the_id() -> None:
    conf = make_app({"APP_VERSION": "3"}, version=2).conf
    assert conf.version == 3
    assert conf.id == "x-v3"


def test_custom_id_format() -> None:
    assert make_app(version=2, id_format="{id}.{self.version}").conf.id == "x.2"
    assert make_app({"APP_ID_FORMAT": "{id}_{self.version}"}, version=5).conf.id == "x_5"


def test_bad_id_format_names_the_setting() -> None:
    conf = make_app(version=2, id_format="{id}-{nope}").conf
    with pytest.raises(ConfigurationError, match=r"'id_format'.*nope"):
        _ = conf.id


def test_datadir_template_and_appdir() -> None:
    conf = make_app(datadir="/srv/{conf.name}/state", version=2).conf
    assert conf.datadir == Path("/srv/x/state")
    assert conf.appdir == Path("/srv/x/state/v2")
    assert conf.tabledir == Path("/srv/x/state/v2/tables")


def test_datadir_template_may_use_the_versioned_id() -> None:
    assert make_app(datadir="/srv/{conf.id}", version=4).conf.datadir == Path("/srv/x-v4")


def test_default_datadir_is_named_after_the_app() -> None:
    conf = make_app().conf
    assert conf.datadir == Path("x-data")
    assert conf.appdir == Path("x-data/v1")


def test_relative_tabledir_is_under_appdir_and_absolute_is_kept() -> None:
    relative = make_app(datadir="/srv/d", tabledir="fast/tables").conf
    assert relative.tabledir == Path("/srv/d/v1/fast/tables")
    absolute = make_app(datadir="/srv/d", tabledir="/mnt/ssd/tables").conf
    assert absolute.tabledir == Path("/mnt/ssd/tables")


def test_bad_datadir_template_names_the_setting() -> None:
    conf = make_app(datadir="/srv/{conf.nope}").conf
    with pytest.raises(ConfigurationError, match=r"'datadir'.*conf.nope"):
        _ = conf.datadir


def test_paths_expand_the_home_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    conf = make_app({"APP_TABLEDIR": "~/tables"}, datadir="~/data").conf
    assert conf.datadir == tmp_path / "data"
    assert conf.tabledir == tmp_path / "tables"  # absolute once expanded: kept
    assert make_app(datadir=Path("~") / "p").conf.datadir == tmp_path / "p"


# -- broker URLs ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("kafka://a:9092", ["kafka://a:9092"]),
        ("kafka://a:9092;b:9092", ["kafka://a:9092", "kafka://b:9092"]),
        ("kafka://a:9092,b:9092", ["kafka://a:9092", "kafka://b:9092"]),
        (" kafka://a:9092 ; kafka://b:9092 ;", ["kafka://a:9092", "kafka://b:9092"]),
        ("kafka://a;b,c", ["kafka://a", "kafka://b", "kafka://c"]),
        (["kafka://a:9092", "b:9092"], ["kafka://a:9092", "kafka://b:9092"]),
        (("kafka://a:9092",), ["kafka://a:9092"]),
        ("memory", ["memory://"]),
    ],
)
def test_broker_forms(value: Any, expected: list[str]) -> None:
    assert make_conf({"broker": value}).broker == expected


@pytest.mark.parametrize("value", ["kafka://a;redis://b", ["kafka://a", "redis://b"]])
def test_broker_refuses_mixed_schemes(value: Any) -> None:
    with pytest.raises(ConfigurationError, match=r"'broker'.*one scheme.*'kafka://a'.*'redis://b'"):
        make_conf({"broker": value})


@pytest.mark.parametrize("value", ["", ";", [], 9092, ["kafka://a", 1]])
def test_broker_refuses_nonsense(value: Any) -> None:
    with pytest.raises(ConfigurationError, match=r"setting 'broker': bad value"):
        make_conf({"broker": value})


def test_broker_from_the_environment_accepts_a_list() -> None:
    conf = make_conf(environ={"BROKER_URL": "kafka://a:9092;b:9093"})
    assert conf.broker == ["kafka://a:9092", "kafka://b:9093"]


def test_consumer_and_producer_brokers_follow_broker() -> None:
    conf = make_conf({"broker": "kafka://a;b"})
    assert conf.broker_consumer == ["kafka://a", "kafka://b"]
    assert conf.broker_producer == ["kafka://a", "kafka://b"]
    assert conf.source_of("broker_consumer") == Source("default")


def test_consumer_and_producer_brokers_can_differ() -> None:
    conf = make_conf(
        {"broker": "kafka://a", "broker_producer": "kafka://p"},
        {"BROKER_CONSUMER_URL": "kafka://c1;c2"},
    )
    assert conf.broker == ["kafka://a"]
    assert conf.broker_consumer == ["kafka://c1", "kafka://c2"]
    assert conf.broker_producer == ["kafka://p"]


# -- value types ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("yes", True),
        ("no", False),
        ("true", True),
        ("false", False),
        ("1", True),
        ("0", False),
        ("", False),
        ("on", True),
        ("off", False),
        ("TRUE", True),
        (" Yes ", True),
        ("Off", False),
    ],
)
def test_booleans_from_the_environment(text: str, expected: bool) -> None:
    conf = make_conf(environ={"APP_DEBUG": text})
    assert conf.debug is expected


def test_a_bad_boolean_from_the_environment_says_where_it_came_from() -> None:
    with pytest.raises(ConfigurationError) as info:
        make_conf(environ={"APP_DEBUG": "maybe"})
    assert str(info.value).startswith(
        "setting 'debug' (from environment APP_DEBUG): bad value 'maybe': expected a boolean"
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2.5", 2.5), ("10", 10.0), (3, 3.0), (0.25, 0.25), (timedelta(minutes=1, seconds=30), 90.0)],
)
def test_seconds(value: Any, expected: float) -> None:
    conf = make_conf({"blocking_timeout": value})
    assert conf.blocking_timeout == expected
    assert isinstance(conf.blocking_timeout, float)


def test_seconds_from_the_environment() -> None:
    assert make_conf(environ={"BLOCKING_TIMEOUT": "0.75"}).blocking_timeout == 0.75


@pytest.mark.parametrize(
    ("value", "reason"),
    [("soon", "expected seconds"), (-1, "at least 0"), (timedelta(seconds=-5), "at least 0")],
)
def test_bad_seconds(value: Any, reason: str) -> None:
    with pytest.raises(ConfigurationError, match=rf"'blocking_timeout'.*{reason}"):
        make_conf({"blocking_timeout": value})


def test_integers_are_range_checked_with_the_setting_named() -> None:
    with pytest.raises(ConfigurationError, match=r"'version': bad value 0: must be at least 1"):
        make_conf({"version": 0})
    with pytest.raises(ConfigurationError, match=r"'version'.*bad value True"):
        make_conf({"version": True})


PG = SPECS["processing_guarantee"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("at_least_once", ProcessingGuarantee.AT_LEAST_ONCE),
        ("exactly_once", ProcessingGuarantee.EXACTLY_ONCE),
        (" exactly_once ", ProcessingGuarantee.EXACTLY_ONCE),
        (ProcessingGuarantee.EXACTLY_ONCE, ProcessingGuarantee.EXACTLY_ONCE),
    ],
)
def test_processing_guarantee_values(value: Any, expected: ProcessingGuarantee) -> None:
    assert PG.type(value) is expected


@pytest.mark.parametrize("value", ["twice", "EXACTLY_ONCE", 1, ""])
def test_processing_guarantee_refuses_other_values(value: Any) -> None:
    with pytest.raises(ValueError, match=r"expected one of 'at_least_once' \| 'exactly_once'"):
        PG.type(value)
    with pytest.raises(ConfigurationError) as info:
        make_app(processing_guarantee=value).configure()
    assert not isinstance(info.value, SettingNotSupportedError)
    assert f"setting 'processing_guarantee': bad value {value!r}" in str(info.value)


def test_processing_guarantee_exactly_once_is_refused_until_supported() -> None:
    assert make_app(processing_guarantee="at_least_once").conf.processing_guarantee is (
        ProcessingGuarantee.AT_LEAST_ONCE
    )
    app = make_app({"PROCESSING_GUARANTEE": "exactly_once"})
    if PG.pending:
        with pytest.raises(SettingNotSupportedError, match=r"'processing_guarantee'.*not supp"):
            app.configure()
    else:
        assert app.conf.processing_guarantee is ProcessingGuarantee.EXACTLY_ONCE


CLASSES = """
    from strm.worker import Worker

    class MyWorker(Worker):
        pass

    class Outer:
        class Inner(Worker):
            pass

    def not_a_class():
        return None
"""


def test_class_settings_take_dotted_paths(make_module: MakeModule) -> None:
    mod = make_module("strm_test_classes", CLASSES)
    dotted = make_app(Worker=f"{mod}.MyWorker")
    assert dotted.extension_class("Worker").__name__ == "MyWorker"
    colon = make_app(Worker=f"{mod}:Outer.Inner")
    assert colon.extension_class("Worker").__qualname__ == "Outer.Inner"
    assert make_app().extension_class("Worker") is Worker  # unset: the plugin's class


def test_class_settings_take_classes() -> None:
    class Custom(Worker):
        pass

    assert make_app(Worker=Custom).extension_class("Worker") is Custom


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("{mod}.Missing", "has no attribute 'Missing'"),
        ("{mod}:Outer.Missing", "has no attribute 'Outer.Missing'"),
        ("no_such_package_zz.Worker", "cannot import module 'no_such_package_zz'"),
        ("{mod}.not_a_class", "expected a class"),
        ("Worker", "expected a dotted path"),
    ],
)
def test_bad_class_paths(make_module: MakeModule, path: str, reason: str) -> None:
    mod = make_module("strm_test_classes", CLASSES)
    value = path.format(mod=mod)
    with pytest.raises(ConfigurationError) as info:
        make_app(Worker=value).configure()
    assert str(info.value).startswith(f"setting 'Worker': bad value {value!r}: ")
    assert reason in str(info.value)


# -- aliases --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("alias", "canonical", "value", "expected"),
    [
        ("url", "broker", "kafka://a:9092", ["kafka://a:9092"]),
        ("client_id", "broker_client_id", "billing", "billing"),
        ("commit_interval", "broker_commit_interval", 5, 5.0),
        ("num_standby_replicas", "table_standby_replicas", 3, 3),
        ("default_partitions", "topic_partitions", 12, 12),
        ("replication_factor", "topic_replication_factor", 3, 3),
        ("create_reply_topic", "reply_create_topic", True, True),
        ("linger_ms", "linger", 250, 0.25),
    ],
)
def test_aliases_warn_and_map(alias: str, canonical: str, value: Any, expected: Any) -> None:
    with pytest.warns(DeprecationWarning, match=rf"'{alias}' is an older name of '{canonical}'"):
        conf = make_conf({alias: value}, specs=WITH_CONVERSION)
    assert conf.__getattr__(canonical) == expected
    assert alias not in conf
    with pytest.warns(DeprecationWarning, match=rf"'{alias}'"):
        conf.set(alias, value)
    assert conf.__getattr__(canonical) == expected


def test_an_alias_of_a_pending_setting_is_refused_under_its_new_name() -> None:
    spec = SPECS["topic_partitions"]
    app = make_app(default_partitions=3)
    with pytest.warns(DeprecationWarning, match=r"'default_partitions'"):
        if spec.pending:
            with pytest.raises(SettingNotSupportedError, match=r"'topic_partitions'"):
                app.configure()
        else:
            assert app.conf.topic_partitions == 3


def test_a_bad_value_for_a_converting_alias_names_both() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(ConfigurationError) as info:
            make_conf({"linger_ms": "soon"}, specs=WITH_CONVERSION)
    message = str(info.value)
    assert message.startswith("setting 'linger': bad value 'soon'")
    assert "'linger_ms'" in message


# -- unknown names --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("brokr", "; did you mean 'broker'"),
        ("topic_partition", "; did you mean 'topic_partitions'"),
        ("webport", "; did you mean 'web_port'"),
        ("zzzzzz", ""),
    ],
)
def test_unknown_setting(name: str, hint: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        given: dict[str, Any] = {name: 1}
        make_app(**given).configure()
    message = str(info.value)
    assert message.startswith(f"unknown setting {name!r}{hint}")
    if not hint:
        assert "did you mean" not in message


def test_unknown_setting_from_the_command_line() -> None:
    app = make_app()
    app.override_settings(verison=2)
    with pytest.raises(ConfigurationError, match=r"unknown setting 'verison'; did you mean"):
        app.configure()


def test_unknown_attribute_suggests_a_setting() -> None:
    conf = make_app().conf
    with pytest.raises(AttributeError, match=r"setting 'topic_partiton'.*'topic_partitions'"):
        _ = conf.topic_partiton


# -- config_from_object ---------------------------------------------------------------------------


def test_config_from_a_mapping() -> None:
    app = make_app()
    app.config_from_object({"version": 2, "datadir": "/srv/d"})
    assert app.conf.version == 2
    assert app.conf.datadir == Path("/srv/d")


class Config:
    version = 3
    debug = True
    BROKER_URL = "kafka://constants-are-skipped"

    def helper(self) -> int:
        return 1


def test_config_from_a_class_and_an_instance() -> None:
    for obj in (Config, Config()):
        app = make_app()
        app.config_from_object(obj)
        assert app.conf.version == 3
        assert app.conf.debug is True
        assert app.conf.source_of("version") == Source("argument")


CONFIG_MODULE = """
    import os
    from datetime import timedelta
    from pathlib import Path

    from strm.worker import Worker

    version = 4
    blocking_timeout = timedelta(seconds=2)
    datadir = Path("/srv") / "from-module"
    DATABASE_URL = "postgres://constants-are-not-settings"

    class CustomWorker(Worker):
        pass

    Worker = CustomWorker

    def helper():
        return os.sep
"""


def test_config_from_a_module_by_dotted_path(make_module: MakeModule) -> None:
    mod = make_module("strm_test_config", CONFIG_MODULE)
    app = make_app()
    app.config_from_object(mod)
    conf = app.conf
    assert conf.version == 4
    assert conf.blocking_timeout == 2.0
    assert conf.datadir == Path("/srv/from-module")
    assert app.extension_class("Worker").__name__ == "CustomWorker"


def test_config_from_an_object_by_dotted_path(make_module: MakeModule) -> None:
    mod = make_module(
        "strm_test_config_obj",
        """
        class Production:
            version = 7

        settings = {"debug": "yes"}
        """,
    )
    app = make_app()
    app.config_from_object(f"{mod}.Production")
    app.config_from_object(f"{mod}:settings")
    assert app.conf.version == 7
    assert app.conf.debug is True


def test_config_from_object_takes_a_callable_that_is_a_setting(make_module: MakeModule) -> None:
    mod = make_module(
        "strm_test_config_callable",
        """
        def producer_partitioner(key, all_partitions, available):
            return all_partitions[0]
        """,
    )
    app = make_app()
    app.config_from_object(mod)
    if SPECS["producer_partitioner"].pending:
        with pytest.raises(SettingNotSupportedError, match=r"'producer_partitioner'"):
            app.configure()
    else:
        assert app.conf.producer_partitioner.__name__ == "producer_partitioner"


def test_config_from_object_rejects_an_unknown_attribute(make_module: MakeModule) -> None:
    mod = make_module("strm_test_config_typo", "verison = 2\n")
    app = make_app()
    app.config_from_object(mod)
    with pytest.raises(ConfigurationError, match=r"unknown setting 'verison'; did you mean 've"):
        app.configure()


def test_config_from_object_with_a_bad_path() -> None:
    with pytest.raises(ConfigurationError, match=r"no_such_package_zz"):
        make_app().config_from_object("no_such_package_zz.settings")


def test_config_from_object_after_configuration_is_refused() -> None:
    app = make_app().configure()
    with pytest.raises(ConfigurationError, match=r"before the app is configured"):
        app.config_from_object({"version": 2})


# -- changing and freezing ------------------------------------------------------------------------


def test_set_validates_and_records_the_source() -> None:
    conf = make_app().conf
    conf.set("version", "4")
    assert conf.version == 4
    conf.debug = "yes"  # attribute assignment goes through set()
    assert conf.debug is True
    with pytest.raises(ConfigurationError, match=r"setting 'version': bad value 0"):
        conf.set("version", 0)
    assert conf.version == 4
    with pytest.raises(ConfigurationError, match=r"unknown setting 'verison'; did you mean"):
        conf.set("verison", 5)
    conf.set("version", 5, Source("command line"))
    assert conf.source_of("version") == Source("command line")


FUTURE = Setting(
    "future_knob",
    Int(min=0),
    "Arrives later.",
    default=1,
    env="FUTURE_KNOB",
    pending="a later release",
)


def test_a_pending_setting_keeps_its_default_and_refuses_other_values() -> None:
    specs = {**SPECS, FUTURE.name: FUTURE}
    conf = make_conf(specs=specs)
    assert conf.future_knob == 1
    conf.set("future_knob", "1")  # its default, given explicitly, is fine
    with pytest.raises(SettingNotSupportedError) as info:
        conf.set("future_knob", 2)
    assert str(info.value) == (
        "setting 'future_knob' is not supported yet by strm: it arrives with a later release. "
        "Leave it at its default (1) until then."
    )
    assert conf.future_knob == 1  # the refused value was not kept
    assert conf.source_of("future_knob") == Source("argument")
    with pytest.raises(SettingNotSupportedError, match=r"\(from environment FUTURE_KNOB\)"):
        make_conf(environ={"FUTURE_KNOB": "5"}, specs=specs)
    with pytest.raises(ConfigurationError) as bad:
        make_conf({"future_knob": -1}, specs=specs)
    assert not isinstance(bad.value, SettingNotSupportedError)  # a bad value is reported as bad


def test_a_pending_plugin_setting_names_the_strm_version(make_module: MakeModule) -> None:
    mod = make_module(
        "strm_test_future",
        """
        import strm
        from strm.kernel.settings import Setting
        from strm.kernel.settings.types import Int

        @strm.hookimpl
        def strm_settings():
            return [Setting("future_knob", Int(), "Later.", default=1, pending="a later release")]
        """,
    )
    assert make_app(plugins=[mod], future_knob=1).conf.future_knob == 1
    with pytest.raises(SettingNotSupportedError, match=r"not supported yet by strm \d+\.\d+"):
        make_app(plugins=[mod], future_knob=2).configure()


def test_freeze() -> None:
    conf = make_app().conf
    conf.freeze()
    assert conf.frozen
    with pytest.raises(ConfigurationError, match=r"cannot change setting 'version': .*frozen"):
        conf.set("version", 2)
    with pytest.raises(ConfigurationError, match=r"frozen"):
        conf.version = 2
    assert conf.version == 1


async def test_settings_are_frozen_once_the_app_started() -> None:
    app = make_app()
    assert not app.conf.frozen
    await app.start()
    try:
        assert app.conf.frozen
        with pytest.raises(ConfigurationError, match=r"frozen"):
            app.override_settings(version=2)
        with pytest.raises(ConfigurationError, match=r"frozen"):
            app.conf.debug = True
    finally:
        await app.stop()
    assert app.conf.version == 1
    assert app.conf.debug is False


# -- settings of plugins --------------------------------------------------------------------------

WIDGET_PLUGIN = """
    import strm
    from strm.kernel.settings import Setting
    from strm.kernel.settings.types import Int, Str

    @strm.hookimpl
    def strm_settings():
        return [
            Setting("widget_count", Int(min=0), "How many widgets.", default=3,
                    env="WIDGET_COUNT", section="Widgets"),
            Setting("widget_db_password", Str(optional=True), "Widget database password.",
                    env="WIDGET_DB_PASSWORD", section="Widgets"),
            Setting("widget_credentials", Int(optional=True), "Widget service credentials.",
                    env="WIDGET_CREDENTIALS", section="Widgets"),
        ]
"""


def test_plugin_settings_default_and_distribution(make_module: MakeModule) -> None:
    mod = make_module("strm_test_widgets", WIDGET_PLUGIN)
    conf = make_app(plugins=[mod]).conf
    assert conf.widget_count == 3
    assert conf.source_of("widget_count") == Source("default")
    spec = conf.specs()["widget_count"]
    assert spec.distribution == f"module {mod}"
    assert spec.section == "Widgets"


def test_plugin_settings_from_argument_and_environment(make_module: MakeModule) -> None:
    mod = make_module("strm_test_widgets", WIDGET_PLUGIN)
    assert make_app(plugins=[mod], widget_count=5).conf.widget_count == 5
    conf = make_app({"WIDGET_COUNT": "7"}, plugins=[mod], widget_count=5).conf
    assert conf.widget_count == 7
    assert conf.source_of("widget_count") == Source("environment", "WIDGET_COUNT")
    environ = {"P_WIDGET_COUNT": "8", "WIDGET_COUNT": "1"}
    prefixed = make_app(environ, plugins=[mod], env_prefix="P_")
    assert prefixed.conf.widget_count == 8


def test_plugin_settings_are_checked(make_module: MakeModule) -> None:
    mod = make_module("strm_test_widgets", WIDGET_PLUGIN)
    with pytest.raises(ConfigurationError, match=r"setting 'widget_count': bad value -1: must be"):
        make_app(plugins=[mod], widget_count=-1).configure()
    with pytest.raises(
        ConfigurationError,
        match=r"setting 'widget_count' \(from environment WIDGET_COUNT\): bad value 'many'",
    ):
        make_app({"WIDGET_COUNT": "many"}, plugins=[mod]).configure()


def test_plugin_settings_are_suggested(make_module: MakeModule) -> None:
    mod = make_module("strm_test_widgets", WIDGET_PLUGIN)
    with pytest.raises(ConfigurationError, match=r"unknown setting 'widget_cont'.*'widget_count'"):
        make_app(plugins=[mod], widget_cont=1).configure()
    # without the plugin, the name is unknown
    with pytest.raises(ConfigurationError, match=r"unknown setting 'widget_count'"):
        make_app(widget_count=1).configure()


def test_two_plugins_declaring_one_setting(make_module: MakeModule) -> None:
    first = make_module("strm_test_widgets", WIDGET_PLUGIN)
    second = make_module("strm_test_widgets_again", WIDGET_PLUGIN)
    with pytest.raises(PluginError) as info:
        make_app(plugins=[first, second]).configure()
    message = str(info.value)
    assert "'widget_count'" in message
    assert f"module {first}" in message
    assert f"module {second}" in message


def test_a_plugin_cannot_redeclare_a_kernel_setting(make_module: MakeModule) -> None:
    mod = make_module(
        "strm_test_rebroker",
        """
        import strm
        from strm.kernel.settings import Setting
        from strm.kernel.settings.types import Str

        @strm.hookimpl
        def strm_settings():
            return [Setting("broker", Str(), "Mine.", default="x://")]
        """,
    )
    with pytest.raises(PluginError, match=rf"'broker' is declared by both strm and module {mod}"):
        make_app(plugins=[mod]).configure()


# -- secrets --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("widget_db_password", 123456),
        ("widget_credentials", "hunter2"),
        ("widget_credentials", "7a"),
    ],
)
def test_secret_values_are_hidden_in_errors(make_module: MakeModule, name: str, value: Any) -> None:
    mod = make_module("strm_test_widgets", WIDGET_PLUGIN)
    with pytest.raises(ConfigurationError) as info:
        make_app(plugins=[mod], **{name: value}).configure()
    message = str(info.value)
    assert message.startswith(f"setting {name!r}: bad value <hidden>: ")
    assert str(value) not in message


def test_secret_values_from_the_environment_are_hidden(make_module: MakeModule) -> None:
    mod = make_module("strm_test_widgets", WIDGET_PLUGIN)
    with pytest.raises(ConfigurationError) as info:
        make_app({"WIDGET_CREDENTIALS": "s3cr3t-token"}, plugins=[mod]).configure()
    message = str(info.value)
    assert "(from environment WIDGET_CREDENTIALS): bad value <hidden>" in message
    assert "s3cr3t" not in message
    with pytest.raises(ConfigurationError) as kernel:
        make_conf(environ={"BROKER_CREDENTIALS": "user:hunter2"})
    assert "bad value <hidden>" in str(kernel.value)
    assert "hunter2" not in str(kernel.value)


def test_a_valid_secret_is_kept(make_module: MakeModule) -> None:
    mod = make_module("strm_test_widgets", WIDGET_PLUGIN)
    conf = make_app({"WIDGET_DB_PASSWORD": "pw"}, plugins=[mod]).conf
    assert conf.widget_db_password == "pw"


def test_defaults_computed_from_other_settings_follow_a_later_change() -> None:
    """The command line sets its values after the app is configured: a derived default must
    follow them (canonical_url after --web-port, broker_consumer after a new broker)."""
    conf = make_conf(given={"web_enabled": False})
    conf.set("web_port", 6067)
    conf.set("web_host", "node-7.example")
    assert conf.canonical_url == "http://node-7.example:6067"
    conf.set("broker", "memory://other")
    assert conf.broker_consumer == ["memory://other"]
    assert conf.source_of("broker_consumer").kind == "default"
    conf.set("canonical_url", "http://given.example:80")
    conf.set("web_port", 6068)
    assert conf.canonical_url == "http://given.example:80"  # given, so no longer derived
