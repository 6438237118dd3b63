"""The kernel depends on no plugin and no backend client: they plug into it, never the reverse."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

KERNEL = Path(__file__).resolve().parents[1] / "core" / "src" / "strm"

#: Clients that belong inside their plugin (Kafka, RocksDB, LevelDB, Aerospike, Redis, caches).
BACKEND_CLIENTS = {"aiokafka", "kafka", "confluent_kafka", "rocksdict", "rocksdb", "plyvel",
                   "aerospike", "redis", "aioredis", "aiocache"}  # fmt: skip


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """Every absolute module an ``import`` or ``from ... import`` in the file names."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, node.args[0].value))
    return found


def forbidden(module: str) -> bool:
    top = module.partition(".")[0]
    return top.startswith("strm_") or top in BACKEND_CLIENTS


def kernel_files() -> list[Path]:
    return sorted(KERNEL.rglob("*.py"))


def test_the_kernel_has_modules_to_check() -> None:
    names = {path.relative_to(KERNEL).as_posix() for path in kernel_files()}
    wanted = {"app/__init__.py", "kernel/hookspecs.py", "kernel/plugins/manager.py"}
    wanted.add("kernel/spi.py")
    assert wanted <= names


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import strm_transport_kafka", True),
        ("from strm_store_rocksdb.store import RocksDBStore", True),
        ("import aiokafka.errors", True),
        ("from redis import asyncio", True),
        ("importlib.import_module('rocksdict')", True),
        ("import strm.app", False),
        ("from strm import records", False),
        ("import asyncio", False),
    ],
)
def test_the_checker_tells_plugins_from_the_kernel(
    tmp_path: Path, source: str, expected: bool
) -> None:
    path = tmp_path / "sample.py"
    path.write_text(f"import importlib\n{source}\n")
    assert any(forbidden(module) for _, module in imported_modules(path)) is expected


def test_no_kernel_module_imports_a_plugin_or_a_backend_client() -> None:
    offenders = [
        f"{path.relative_to(KERNEL.parent)}:{line}: {module}"
        for path in kernel_files()
        for line, module in imported_modules(path)
        if forbidden(module)
    ]
    assert offenders == []


def test_importing_strm_loads_no_plugin_and_no_backend_client() -> None:
    code = (
        "import json, sys\n"
        "import strm, strm.cli.main, strm.testing.pytest_plugin\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    loaded: list[str] = json.loads(result.stdout)
    assert "strm" in loaded
    assert [name for name in loaded if forbidden(name)] == []


def test_an_app_does_not_import_the_command_line() -> None:
    """The CLI is a user of App, not a part of it: an app that defines no command loads none
    of ``strm.cli`` (nor click through it)."""
    code = (
        "import sys, strm\n"
        "app = strm.App('x', entry_points=False)\n"
        "app.topic('t')\n"
        "print(sorted(m for m in sys.modules if m.startswith('strm.cli')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_importing_strm_loads_neither_click_nor_the_command_line() -> None:
    """A worker run by its own program (``async with app.running()``, or an app that defines
    no command) pays no import of click: ``strm.option``/``strm.argument`` load it on use."""
    code = (
        "import json, sys\n"
        "import strm\n"
        "loaded = sorted(sys.modules)\n"
        "assert strm.option.__module__.startswith('click')\n"
        "print(json.dumps(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    loaded: list[str] = json.loads(result.stdout)
    assert "strm.app" in loaded
    assert [m for m in loaded if m == "click" or m.startswith(("click.", "strm.cli"))] == []


def _loaded_by_an_app(setup: str = "") -> list[str]:
    """The modules loaded once an app with every installed plugin is configured and has an
    agent on a Kafka topic, without the web server (``web_enabled=False``)."""
    code = (
        "import json, sys\n"
        "import strm\n"
        "app = strm.App('x', broker='kafka://localhost:9092', web_enabled=False, environ={})\n"
        f"{setup}"
        "topic = app.topic('t')\n"
        "@app.agent(topic)\n"
        "async def agent(stream):\n"
        "    async for _ in stream:\n"
        "        pass\n"
        "app.configure()\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    loaded: list[str] = json.loads(result.stdout)
    return loaded


def _top_level(loaded: list[str]) -> set[str]:
    return {name.partition(".")[0] for name in loaded}


def test_a_worker_without_the_web_server_does_not_import_aiohttp() -> None:
    """strm-web-aiohttp names its driver, its sites and ``HttpClient`` by path: loading the
    plugin imports no aiohttp, and neither does an app that serves no web page."""
    loaded = _loaded_by_an_app()
    assert "strm_web_aiohttp" in loaded
    assert "aiohttp" not in _top_level(loaded)


def test_a_worker_without_a_redis_cache_does_not_import_redis() -> None:
    """strm-cache-redis names its cache by path: aiocache and redis-py load on the first use
    of a Redis cache, not when the plugin is loaded."""
    loaded = _loaded_by_an_app()
    assert "strm_cache_redis" in loaded
    assert {"aiocache", "redis"}.isdisjoint(_top_level(loaded))


def test_a_worker_without_a_marshmallow_schema_does_not_import_marshmallow() -> None:
    """strm-schema-marshmallow's model type asks whether a type is a schema without importing
    marshmallow: none can be until the app has imported it."""
    loaded = _loaded_by_an_app()
    assert "strm_schema_marshmallow" in loaded
    assert "marshmallow" not in _top_level(loaded)


def test_a_worker_without_a_table_store_plugin_in_use_imports_no_store_client() -> None:
    """strm-store-rocksdb, strm-store-leveldb and strm-store-aerospike name their stores by
    path: rocksdict, plyvel and the Aerospike client load when a table first opens a store of
    theirs, not when the plugins are loaded."""
    loaded = _loaded_by_an_app()
    assert {"strm_store_rocksdb", "strm_store_leveldb", "strm_store_aerospike"} <= set(loaded)
    assert {"rocksdict", "plyvel", "aerospike"}.isdisjoint(_top_level(loaded))


def test_a_rocksdb_table_imports_rocksdict_when_its_store_opens() -> None:
    """The other side of the laziness: the store's factory, read when a table opens its store,
    is the plugin's class, and reading it loads the client."""
    loaded = _loaded_by_an_app("app.resolve_backend('store', url='rocksdb://').factory\n")
    assert "rocksdict" in _top_level(loaded)
