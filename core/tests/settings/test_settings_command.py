"""``strm settings``: declarations, an app's values and sources, and the Markdown reference."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
from strm.cli.loading import pre_parse
from strm.cli.main import main, run
from strm.cli.settings_command import kernel_reference, plain, render_markdown
from strm.kernel.settings.catalogue import KERNEL_SETTINGS
from strm.kernel.settings.setting import Setting
from strm.kernel.settings.types import Int, Str

MakeModule = Callable[[str, str], str]  # the make_module fixture of conftest.py
REPO_ROOT = Path(__file__).resolve().parents[3]
KERNEL_NAMES = [spec.name for spec in KERNEL_SETTINGS]
SECRET = "Sup3rS3cretValue"

WIDGET_PLUGIN = """
    import strm
    from strm.kernel.settings import Setting
    from strm.kernel.settings.types import Int, Str

    @strm.hookimpl
    def strm_settings():
        return [
            Setting("widget_count", Int(min=0), "How many widgets.", default=3,
                    env="WIDGET_COUNT", section="Widgets"),
            Setting("widget_api_token", Str(optional=True), "Token of the widget API.",
                    section="Widgets"),
        ]
"""


def strm(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Run ``strm ARGS`` in this process and return what it printed."""
    code = run(args, pre_parse(args))
    out = capsys.readouterr().out
    assert code == 0, out
    return out


def strm_json(args: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, dict[str, Any]]:
    entries = json.loads(strm(args, capsys))
    assert isinstance(entries, list)
    return {entry["name"]: entry for entry in entries}


def app_module(make_module: MakeModule, widgets: str) -> str:
    return make_module(
        "strm_test_settings_app",
        f"""
        import strm

        app = strm.App(
            "demo",
            environ={{"APP_VERSION": "2"}},
            entry_points=False,
            plugins=[{widgets!r}],
            debug=True,
            widget_api_token={SECRET!r},
        )
        """,
    )


# -- declarations ---------------------------------------------------------------------------------


def test_json_lists_every_kernel_setting(capsys: pytest.CaptureFixture[str]) -> None:
    entries = strm_json(["settings", "--json"], capsys)
    assert list(entries)[: len(KERNEL_NAMES)] == KERNEL_NAMES
    assert entries["version"] == {
        "name": "version",
        "section": "Common",
        "type": "int",
        "default": "1",
        "env": "APP_VERSION",
        "aliases": [],
        "distribution": "strm",
        "supported": True,
        "pending": None,
        "doc": next(s.doc for s in KERNEL_SETTINGS if s.name == "version"),
    }
    broker = entries["broker"]
    assert broker["aliases"] == ["url"]
    assert broker["default"] == "'memory://'"
    assert entries["broker_consumer"]["default"] == "the value of broker"
    assert "value" not in broker and "source" not in broker
    for spec in KERNEL_SETTINGS:
        assert entries[spec.name]["supported"] is (spec.pending is None)
        assert entries[spec.name]["pending"] == spec.pending
        assert entries[spec.name]["type"] == spec.type.describe()


def test_the_root_json_flag_works_too(capsys: pytest.CaptureFixture[str]) -> None:
    entries = strm_json(["--json", "settings"], capsys)
    assert entries["debug"]["env"] == "APP_DEBUG"


def test_plugin_settings_are_listed_with_their_distribution(
    capsys: pytest.CaptureFixture[str], make_module: MakeModule
) -> None:
    widgets = make_module("strm_test_widgets", WIDGET_PLUGIN)
    entries = strm_json(["--plugin", widgets, "settings", "--json"], capsys)
    assert entries["widget_count"]["distribution"] == f"module {widgets}"
    assert entries["widget_count"]["section"] == "Widgets"
    assert entries["widget_count"]["default"] == "3"
    assert entries["widget_count"]["env"] == "WIDGET_COUNT"
    assert "widget_count" not in strm_json(["settings", "--json"], capsys)


def test_text_listing(capsys: pytest.CaptureFixture[str]) -> None:
    out = strm(["settings"], capsys)
    lines = out.splitlines()
    assert lines[0] == "Common:"
    version = lines.index("  version")
    assert lines[version + 1] == "      type: int; default: 1; env: APP_VERSION; declared by: strm"
    assert "      older names: url" in lines
    # The web server was the last part the kernel's settings waited for.
    assert not [spec.name for spec in KERNEL_SETTINGS if spec.pending]
    assert not [line for line in lines if "not supported yet" in line]
    assert "Extension:" in lines


# -- an app's values ------------------------------------------------------------------------------


def test_with_an_app_values_and_sources(
    capsys: pytest.CaptureFixture[str], make_module: MakeModule
) -> None:
    widgets = make_module("strm_test_widgets", WIDGET_PLUGIN)
    mod = app_module(make_module, widgets)
    out = strm(["-A", mod, "--datadir", "/srv/demo", "settings", "--json"], capsys)
    assert SECRET not in out
    entries = {entry["name"]: entry for entry in json.loads(out)}
    assert (entries["version"]["value"], entries["version"]["source"]) == (
        2,
        "environment APP_VERSION",
    )
    assert (entries["debug"]["value"], entries["debug"]["source"]) == (True, "argument")
    assert (entries["datadir"]["value"], entries["datadir"]["source"]) == (
        "/srv/demo",
        "command line",
    )
    assert (entries["origin"]["value"], entries["origin"]["source"]) == (mod, "command line")
    assert (entries["store"]["value"], entries["store"]["source"]) == ("memory://", "default")
    assert entries["broker"]["value"] == ["memory://"]
    assert entries["tabledir"]["value"] == "/srv/demo/v2/tables"
    assert entries["worker_redirect_stdouts_level"]["value"] == 30
    assert entries["timezone"]["value"] == "UTC"
    assert entries["widget_count"] | {"value": 3, "source": "default"} == entries["widget_count"]
    assert entries["widget_api_token"]["value"] == "<hidden>"
    assert entries["widget_api_token"]["source"] == "argument"
    assert entries["broker_credentials"]["value"] == "<hidden>"


def test_with_an_app_as_text(capsys: pytest.CaptureFixture[str], make_module: MakeModule) -> None:
    widgets = make_module("strm_test_widgets", WIDGET_PLUGIN)
    mod = app_module(make_module, widgets)
    out = strm(["-A", mod, "settings"], capsys)
    assert SECRET not in out
    lines = out.splitlines()
    assert "  version = 2  (environment APP_VERSION)" in lines
    assert "  debug = true  (argument)" in lines
    assert '  store = "memory://"  (default)' in lines
    assert "  widget_api_token = <hidden>  (argument)" in lines
    assert "Widgets:" in lines


def test_passwords_in_urls_are_not_shown(
    capsys: pytest.CaptureFixture[str], make_module: MakeModule
) -> None:
    mod = make_module(
        "strm_test_settings_url_app",
        """
        import strm

        app = strm.App(
            "demo",
            environ={"BROKER_URL": "memory://u:s3cret@h:9092"},
            entry_points=False,
            store="memory://:s3cret@tables",
        )
        """,
    )
    text = strm(["-A", mod, "settings"], capsys)
    as_json = strm(["-A", mod, "settings", "--json"], capsys)
    assert "s3cret" not in text and "s3cret" not in as_json
    assert '  broker = ["memory://u:***@h:9092"]  (environment BROKER_URL)' in text.splitlines()
    entries = {entry["name"]: entry for entry in json.loads(as_json)}
    for name in ("broker", "broker_consumer", "broker_producer"):
        assert entries[name]["value"] == ["memory://u:***@h:9092"], name
    assert entries["store"]["value"] == "memory://:***@tables"


def test_a_bad_setting_of_the_app_is_one_line_on_stderr(
    capsys: pytest.CaptureFixture[str], make_module: MakeModule
) -> None:
    mod = make_module(
        "strm_test_settings_bad_app",
        """
        import strm

        app = strm.App("demo", environ={}, entry_points=False, topic_partitons=3)
        """,
    )
    with pytest.raises(SystemExit) as info:
        main(["-A", mod, "settings"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("Error: unknown setting 'topic_partitons'; did you mean 'topic_parti")
    assert err.count("\n") == 1


def test_the_console_command(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "strm", "settings", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    names = [entry["name"] for entry in json.loads(result.stdout)]
    assert names[: len(KERNEL_NAMES)] == KERNEL_NAMES


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (Path("/a/b"), "/a/b"),
        ((1, Path("x")), [1, "x"]),
        ({"k": Path("v")}, {"k": "v"}),
        (Setting, "strm.kernel.settings.setting:Setting"),
        (json.dumps, "json:dumps"),
    ],
)
def test_plain_values(value: Any, expected: Any) -> None:
    assert plain(value) == expected


# -- the Markdown reference -----------------------------------------------------------------------


def test_docs_settings_md_is_the_generated_reference() -> None:
    docs = (REPO_ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    assert docs == kernel_reference(), (
        "docs/settings.md is stale: uv run strm settings --kernel --markdown > docs/settings.md"
    )


def test_the_command_prints_the_reference(capsys: pytest.CaptureFixture[str]) -> None:
    assert strm(["settings", "--kernel", "--markdown"], capsys) == kernel_reference()


def _table_rows(markdown: str) -> list[list[str]]:
    rows = []
    for line in markdown.splitlines():
        if line.startswith("| ") and not line.startswith("| Setting |"):
            rows.append([cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]])
    return rows


def test_the_reference_has_one_well_formed_row_per_setting() -> None:
    text = kernel_reference()
    rows = [row for row in _table_rows(text) if len(row) == 5]
    assert [row[0].strip("`") for row in rows] == KERNEL_NAMES
    guarantee = next(row for row in rows if row[0] == "`processing_guarantee`")
    assert guarantee[1] == "'at_least_once' \\| 'exactly_once'"
    assert guarantee[3] == "`PROCESSING_GUARANTEE`"
    assert "*Not supported yet*" not in guarantee[4]
    web_port = next(row for row in rows if row[0] == "`web_port`")
    assert "*Not supported yet*" not in web_port[4]
    broker = next(row for row in rows if row[0] == "`broker`")
    assert broker[2:4] == ["`'memory://'`", "`BROKER_URL`"]
    assert "Older name: `url`." in broker[4]
    assert "*Not supported yet*" not in broker[4]
    tabledir = next(row for row in rows if row[0] == "`tabledir`")
    assert "datadir/v&lt;version&gt;" in tabledir[4]
    assert "| `store_check_exists` | `pip install strm-store-aerospike` |" in text
    for heading in (
        "## Where a value comes from",
        "## env_prefix",
        "## Older names",
        "## Not supported yet",
        "## Common",
        "## Extension",
    ):
        assert f"\n{heading}\n" in text


def test_plugin_settings_in_the_reference_name_their_distribution() -> None:
    spec = Setting(
        "widget_count", Int(), "Widgets.", default=3, section="Widgets", distribution="strm-widgets"
    )
    secret = Setting(
        "widget_password",
        Str(),
        "Password.",
        default="guest",
        section="Widgets",
        distribution="strm-widgets",
    )
    text = render_markdown([*KERNEL_SETTINGS[:1], spec, secret])
    rows = _table_rows(text)
    assert rows[0] == [
        "`autodiscover`",
        "bool, list of packages or callable",
        "`False`",
        "-",
        "strm",
        rows[0][5],
    ]
    assert rows[1][:5] == ["`widget_count`", "int", "`3`", "-", "strm-widgets"]
    assert rows[2][2] == "`<hidden>`"
    assert "guest" not in text
    assert "## Widgets\n" in text
    assert "first-party plugins" not in text


def test_the_reference_with_plugins(
    capsys: pytest.CaptureFixture[str], make_module: MakeModule
) -> None:
    widgets = make_module("strm_test_widgets", WIDGET_PLUGIN)
    text = strm(["--plugin", widgets, "settings", "--markdown"], capsys)
    assert "| Setting | Type | Default | Environment variable | Declared by | Notes |" in text
    assert f"| `widget_count` | int | `3` | `WIDGET_COUNT` | module {widgets} | " in text
    # A first-party plugin's setting is documented by the plugin when it is installed (and
    # loaded through its entry point), and by its install command when it is not or is blocked.
    installed = (
        "| `store_check_exists` | bool | `True` | `STORE_CHECK_EXISTS` | strm-store-aerospike |"
    )
    if any(ep.name == "store_aerospike" for ep in entry_points(group="strm")):
        assert installed in text
    blocked = strm(
        ["--plugin", widgets, "--plugin", "no:store_aerospike", "settings", "--markdown"], capsys
    )
    assert installed not in blocked
    assert "| `store_check_exists` | `pip install strm-store-aerospike` |" in blocked
