"""The four Aerospike settings: declared by this plugin, typed, read from the environment,
refused with a message naming them, and honoured by the store."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import strm
from strm.app import App
from strm.testing.pytest_plugin import AppFactory
from strm_store_aerospike import AerospikeStore
from strm_store_aerospike.testing import FakeAerospike

PLUGIN = "strm_store_aerospike"
DISTRIBUTION = "strm-store-aerospike"
OpenStore = Callable[..., AerospikeStore]

#: name -> (default, environment variable, an environment value, its typed value)
SETTINGS: dict[str, tuple[Any, str, str, Any]] = {
    "store_check_exists": (True, "STORE_CHECK_EXISTS", "false", False),
    "crash_app_on_aerospike_exception": (True, "CRASH_APP_ON_AEROSPIKE_EXCEPTION", "no", False),
    "aerospike_retries_on_exception": (60, "AEROSPIKE_RETRIES_ON_EXCEPTION", "3", 3),
    "aerospike_sleep_seconds_between_retries_on_exception": (
        1.0,
        "AEROSPIKE_SLEEP_SECONDS_BETWEEN_RETRIES_ON_EXCEPTION",
        "0.25",
        0.25,
    ),
}


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_the_setting_is_declared_by_this_distribution_with_its_default(
    name: str, strm_app_factory: AppFactory
) -> None:
    default, env, _, _ = SETTINGS[name]
    app = strm_app_factory(entry_points=True)
    spec = app.conf.specs()[name]
    assert spec.distribution == DISTRIBUTION
    assert spec.env == env
    assert spec.section == "Stream"
    assert getattr(app.conf, name) == default
    assert str(app.conf.source_of(name)) == "default"


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_the_setting_reads_its_environment_variable(
    name: str, make_app: Callable[..., App]
) -> None:
    _, env, text, typed = SETTINGS[name]
    app = make_app(environ={env: text})
    assert getattr(app.conf, name) == typed
    assert str(app.conf.source_of(name)) == f"environment {env}"


def test_the_sleep_takes_a_timedelta_and_a_fraction(make_app: Callable[..., App]) -> None:
    from datetime import timedelta

    name = "aerospike_sleep_seconds_between_retries_on_exception"
    assert getattr(make_app(**{name: timedelta(milliseconds=1500)}).conf, name) == 1.5
    assert getattr(make_app(**{name: 0}).conf, name) == 0.0


@pytest.mark.parametrize(
    ("settings", "environ", "name", "expected"),
    [
        ({"store_check_exists": "maybe"}, {}, "store_check_exists", "expected a boolean"),
        ({}, {"STORE_CHECK_EXISTS": "maybe"}, "store_check_exists", "environment"),
        (
            {"crash_app_on_aerospike_exception": 2},
            {},
            "crash_app_on_aerospike_exception",
            "expected a boolean",
        ),
        (
            {"aerospike_retries_on_exception": -1},
            {},
            "aerospike_retries_on_exception",
            "must be at least 0",
        ),
        (
            {},
            {"AEROSPIKE_RETRIES_ON_EXCEPTION": "many"},
            "aerospike_retries_on_exception",
            "from environment AEROSPIKE_RETRIES_ON_EXCEPTION",
        ),
        (
            {"aerospike_sleep_seconds_between_retries_on_exception": -0.5},
            {},
            "aerospike_sleep_seconds_between_retries_on_exception",
            "must be at least 0",
        ),
        (
            {"aerospike_sleep_seconds_between_retries_on_exception": "soon"},
            {},
            "aerospike_sleep_seconds_between_retries_on_exception",
            "expected seconds",
        ),
        (
            {"aerospike_retries_on_exceptions": 3},
            {},
            "aerospike_retries_on_exception",
            "did you mean",
        ),
    ],
)
def test_a_bad_value_is_a_configuration_error_naming_the_setting(
    make_app: Callable[..., App],
    settings: dict[str, Any],
    environ: dict[str, str],
    name: str,
    expected: str,
) -> None:
    app = make_app(environ=environ, **settings)
    with pytest.raises(strm.ConfigurationError) as info:
        app.configure()
    message = str(info.value)
    assert repr(name) in message
    assert expected in message


def test_without_the_plugin_the_settings_name_this_distribution(
    strm_app_factory: AppFactory,
) -> None:
    app = strm_app_factory(store_check_exists=False)
    with pytest.raises(strm.ConfigurationError) as info:
        app.configure()
    assert "'store_check_exists'" in str(info.value)
    assert f"pip install {DISTRIBUTION}" in str(info.value)


def test_the_store_reads_the_settings_of_its_app(
    make_app: Callable[..., App], open_store: OpenStore
) -> None:
    app = make_app(
        store_check_exists=False,
        crash_app_on_aerospike_exception=False,
        aerospike_retries_on_exception=7,
        aerospike_sleep_seconds_between_retries_on_exception=0.5,
    )
    store = open_store(app=app)
    policy = store._policy
    assert (policy.check_exists, policy.crash_app, policy.retries, policy.sleep_seconds) == (
        False,
        False,
        7,
        0.5,
    )


# -- store_check_exists --------------------------------------------------------------------------


def test_checking_existence_asks_exists_before_reading(
    make_app: Callable[..., App], open_store: OpenStore, fake: FakeAerospike
) -> None:
    store = open_store(app=make_app(store_check_exists=True))
    store.set(b"here", b"v")
    fake.calls.clear()
    assert store.get(b"missing") is None
    assert [c.method for c in fake.calls] == ["exists"]
    fake.calls.clear()
    assert store.get(b"here") == b"v"
    assert [c.method for c in fake.calls] == ["exists", "get"]
    fake.calls.clear()
    assert store.contains(b"here")
    assert not store.contains(b"missing")
    assert [c.method for c in fake.calls] == ["exists", "exists"]


def test_without_the_check_a_read_is_one_call_and_not_found_is_missing(
    make_app: Callable[..., App], open_store: OpenStore, fake: FakeAerospike
) -> None:
    store = open_store(app=make_app(store_check_exists=False))
    store.set(b"here", b"v")
    fake.calls.clear()
    assert store.get(b"missing") is None
    assert store.get(b"here") == b"v"
    assert store.contains(b"here")
    assert not store.contains(b"missing")
    assert [c.method for c in fake.calls] == ["get", "get", "get", "get"]
    assert fake.count("exists") == 0
