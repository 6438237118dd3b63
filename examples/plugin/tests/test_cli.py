"""The plugin's ``--dictstore-max-keys`` option and ``dictstore-info`` command, run in-process."""

from __future__ import annotations

from pathlib import Path

import pytest
from strm.cli.main import main

PLUGIN = "strm_example_dictstore"


def run_strm(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(args)
    out, err = capsys.readouterr()
    code = info.value.code
    assert isinstance(code, int)
    return code, out, err


@pytest.fixture(autouse=True)
def _no_leaking_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DICTSTORE_MAX_KEYS", raising=False)
    monkeypatch.delenv("STRM_PLUGINS", raising=False)


def test_info_lists_what_the_plugin_provides(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_strm(["--plugin", PLUGIN, "dictstore-info"], capsys)
    assert (code, err) == (0, "")
    assert "store    dictstore://" in out
    assert "codec    reverse" in out
    assert "dictstore_max_keys = 10000 (default)" in out


def test_the_option_sets_the_setting(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_strm(
        ["--plugin", PLUGIN, "--dictstore-max-keys", "7", "dictstore-info"], capsys
    )
    assert code == 0
    assert "dictstore_max_keys = 7 (command line)" in out


def test_the_option_beats_the_environment(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DICTSTORE_MAX_KEYS", "9")
    code, out, _ = run_strm(["--plugin", PLUGIN, "dictstore-info"], capsys)
    assert "dictstore_max_keys = 9 (environment DICTSTORE_MAX_KEYS)" in out
    code, out, _ = run_strm(
        ["--plugin", PLUGIN, "--dictstore-max-keys", "4", "dictstore-info"], capsys
    )
    assert code == 0
    assert "dictstore_max_keys = 4 (command line)" in out


def test_the_option_reaches_the_app_given_with_dash_a(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "dictstore_demo_app.py").write_text(
        "import strm\n"
        f"app = strm.App('demo', plugins=[{PLUGIN!r}], store='dictstore://',\n"
        f"               datadir={str(tmp_path)!r})\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    args = ["-A", "dictstore_demo_app", "--dictstore-max-keys", "3", "dictstore-info"]
    code, out, err = run_strm(args, capsys)
    assert (code, err) == (0, "")
    assert "dictstore_max_keys = 3 (command line)" in out


def test_a_bad_option_value_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_strm(
        ["--plugin", PLUGIN, "--dictstore-max-keys", "0", "dictstore-info"], capsys
    )
    assert code == 2
    assert err.strip() == (
        "Error: setting 'dictstore_max_keys' (from command line): bad value 0: "
        "must be at least 1, got 0"
    )
