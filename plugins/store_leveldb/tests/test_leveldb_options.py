"""``options=`` reach ``plyvel.DB`` as keyword arguments; a wrong name is caught first."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import plyvel  # type: ignore[import-untyped]
import pytest
from strm.kernel.errors import StoreError
from strm_store_leveldb import PLYVEL_OPTIONS, LevelDBStore

OpenStore = Callable[..., LevelDBStore]


@pytest.fixture
def plyvel_calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The keyword arguments of every ``plyvel.DB`` the store opens (which it still opens)."""
    calls: list[dict[str, Any]] = []
    real = plyvel.DB

    def spy(name: str, **kwargs: Any) -> Any:
        calls.append(kwargs)
        return real(name, **kwargs)

    monkeypatch.setattr(plyvel, "DB", spy)
    return calls


def test_the_known_options_are_the_arguments_of_the_installed_plyvel() -> None:
    signature = plyvel.DB.__doc__.splitlines()[0]
    names = set(re.findall(r"(\w+)=", signature))
    assert names - {"comparator", "comparator_name"} == PLYVEL_OPTIONS


def test_options_pass_through_to_plyvel(
    open_store: OpenStore, plyvel_calls: list[dict[str, Any]]
) -> None:
    options = {
        "lru_cache_size": 1 << 20,
        "bloom_filter_bits": 10,
        "compression": None,
        "write_buffer_size": 1 << 20,
        "paranoid_checks": True,
    }
    store = open_store(options=options)
    store.set(b"k", b"v")
    assert plyvel_calls == [{"create_if_missing": True, **options}]
    assert store.get(b"k") == b"v"


def test_without_options_the_database_is_created_if_missing(
    open_store: OpenStore, plyvel_calls: list[dict[str, Any]]
) -> None:
    open_store(options=None)
    open_store(partition=1, options={})
    assert plyvel_calls == [{"create_if_missing": True}, {"create_if_missing": True}]


def test_the_callers_options_are_not_changed(open_store: OpenStore) -> None:
    options = {"max_open_files": 64}
    store = open_store(options=options)
    assert options == {"max_open_files": 64}
    assert store.options == {"create_if_missing": True, "max_open_files": 64}
    assert store.options is not options


def test_options_override_the_defaults(open_store: OpenStore) -> None:
    with pytest.raises(StoreError, match="does not exist") as info:
        open_store(table_name="absent", options={"create_if_missing": False})
    assert "table 'absent' partition 0" in str(info.value)


def test_options_take_effect(open_store: OpenStore) -> None:
    open_store().close()
    with pytest.raises(StoreError, match="exists"):
        open_store(options={"error_if_exists": True})


def test_an_unknown_option_names_it_and_lists_the_valid_ones(
    open_store: OpenStore, leveldb_dir: Path
) -> None:
    with pytest.raises(StoreError) as info:
        open_store(table_name="counts", options={"lru_cache": 1 << 20})
    message = str(info.value)
    assert "table 'counts' partition 0" in message
    assert "unknown leveldb option 'lru_cache'" in message
    assert "did you mean 'lru_cache_size'?" in message
    assert all(name in message for name in PLYVEL_OPTIONS)
    assert not leveldb_dir.exists(), "nothing is created for a store that cannot open"


def test_an_option_like_no_other_gets_no_suggestion(open_store: OpenStore) -> None:
    with pytest.raises(StoreError, match="unknown leveldb option 'zzz'; valid options"):
        open_store(options={"zzz": 1})


@pytest.mark.parametrize("name", ["comparator", "comparator_name"])
def test_a_custom_key_order_is_refused(open_store: OpenStore, name: str) -> None:
    with pytest.raises(StoreError, match=f"option {name!r} is not supported: .* bytewise"):
        open_store(options={name: b"reversed"})


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"compression": "zstd"}, "must be None or 'snappy'"),
        ({"lru_cache_size": "big"}, "integer"),
    ],
)
def test_a_bad_option_value_is_a_store_error(
    open_store: OpenStore, options: dict[str, Any], expected: str
) -> None:
    with pytest.raises(StoreError, match="plyvel refused the options") as info:
        open_store(table_name="counts", options=options)
    assert expected in str(info.value)
    assert "table 'counts' partition 0" in str(info.value)
