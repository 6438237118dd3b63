"""The plugin inside an app, built with strm's ``strm_app_factory`` fixture."""

from __future__ import annotations

import logging

import pytest
import strm
import strm_example_dictstore
from strm.runtime.backend_contexts import store_context as app_store_context
from strm.testing.pytest_plugin import AppFactory
from strm_example_dictstore import DictStore, DictStoreFullError, ReverseCodec

PLUGIN = "strm_example_dictstore"


def test_the_store_scheme_resolves_to_the_plugins_store(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory(plugins=[PLUGIN], store="dictstore://")
    provision = app.resolve_backend("store")
    assert provision.factory is DictStore
    assert provision.name == "dictstore"


def test_the_store_is_built_with_the_configured_cap(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory(plugins=[PLUGIN], store="dictstore://", dictstore_max_keys=2)
    factory = app.resolve_backend("store").factory
    store = factory(url=app.conf.store, context=app_store_context(app, "t", 0))
    store.set(b"a", b"1")
    store.set(b"b", b"2")
    with pytest.raises(DictStoreFullError):
        store.set(b"c", b"3")


def test_the_setting_has_a_default_and_reads_its_environment_variable(
    strm_app_factory: AppFactory,
) -> None:
    assert strm_app_factory(plugins=[PLUGIN]).conf.dictstore_max_keys == 10_000
    app = strm_app_factory(plugins=[PLUGIN], environ={"DICTSTORE_MAX_KEYS": "25"})
    assert app.conf.dictstore_max_keys == 25
    assert str(app.conf.source_of("dictstore_max_keys")) == "environment DICTSTORE_MAX_KEYS"


@pytest.mark.parametrize(
    ("settings", "environ", "expected"),
    [
        ({"dictstore_max_keys": 0}, {}, "must be at least 1"),
        ({"dictstore_max_keys": "lots"}, {}, "expected an integer"),
        ({}, {"DICTSTORE_MAX_KEYS": "lots"}, "from environment DICTSTORE_MAX_KEYS"),
        ({"dictstore_max_key": 5}, {}, "did you mean 'dictstore_max_keys'"),
    ],
)
def test_bad_values_of_the_setting_are_errors_naming_it(
    strm_app_factory: AppFactory,
    settings: dict[str, object],
    environ: dict[str, str],
    expected: str,
) -> None:
    app = strm_app_factory(plugins=[PLUGIN], environ=environ, **settings)
    with pytest.raises(strm.ConfigurationError, match="dictstore_max_key") as info:
        app.configure()
    assert expected in str(info.value)


def test_the_setting_belongs_to_this_distribution(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory(plugins=[PLUGIN])
    spec = app.conf.specs()["dictstore_max_keys"]
    assert spec.distribution == "strm-example-dictstore"


def test_the_reverse_codec_round_trips_and_composes(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory(plugins=[PLUGIN], value_serializer="json|reverse")
    assert isinstance(app.serializers.codec("reverse"), ReverseCodec)
    data = app.serializers.dumps_value({"n": 1})
    assert data == b'}1:"n"{'
    assert app.serializers.loads_value(data) == {"n": 1}


def test_configuring_an_app_on_dictstore_is_logged(
    strm_app_factory: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=strm_example_dictstore.__name__)
    strm_app_factory("logged", plugins=[PLUGIN], store="dictstore://", dictstore_max_keys=3)
    assert not caplog.records, "nothing happens before the app is configured"
    strm_app_factory(
        "logged", plugins=[PLUGIN], store="dictstore://", dictstore_max_keys=3
    ).configure()
    assert [r.getMessage() for r in caplog.records] == [
        "app 'logged' stores tables in dictstore:// with at most 3 keys per partition"
    ]


def test_the_installed_entry_point_loads_the_plugin(strm_app_factory: AppFactory) -> None:
    """Only true once the distribution is installed: this is what the install test proves."""
    app = strm_app_factory(entry_points=True, store="dictstore://")
    assert app.resolve_backend("store").factory is DictStore
    info = {p.name: p for p in app.plugins.plugins()}["example_dictstore"]
    assert info.distribution == "strm-example-dictstore"
    assert info.module == PLUGIN
    assert not info.builtin
