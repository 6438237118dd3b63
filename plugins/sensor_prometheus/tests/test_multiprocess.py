"""The directory ``strm worker --processes N`` names for its children (``strm_worker_processes``):
where it is, that it is emptied of an earlier run's figures, and that an operator's own
``PROMETHEUS_MULTIPROC_DIR`` is kept."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from strm.app import App
from strm.kernel.errors import StrmError
from strm_sensor_prometheus.multiprocess import DIRNAME, ENV


@pytest.fixture
def app(strm_app_factory: Callable[..., App]) -> App:
    return strm_app_factory("prom-mp", plugins=["strm_sensor_prometheus"]).configure()


def test_the_children_get_a_directory_beside_their_data_emptied_of_earlier_figures(
    app: App,
) -> None:
    shared = Path(app.conf.datadir) / DIRNAME
    shared.mkdir(parents=True)
    (shared / "counter_123.db").write_bytes(b"stale")
    (shared / "notes.txt").write_text("not prometheus_client's")
    environ: dict[str, str] = {}
    app.plugins.hook.strm_worker_processes(app=app, processes=2, environ=environ)
    assert environ == {ENV: str(shared.absolute())}
    assert sorted(p.name for p in shared.iterdir()) == ["notes.txt"]


def test_a_directory_the_operator_named_is_kept_and_emptied(app: App, tmp_path: Path) -> None:
    mine = tmp_path / "metrics"
    mine.mkdir()
    (mine / "gauge_livesum_77.db").write_bytes(b"stale")
    environ = {ENV: str(mine)}
    app.plugins.hook.strm_worker_processes(app=app, processes=3, environ=environ)
    assert environ == {ENV: str(mine)}
    assert list(mine.iterdir()) == []


def test_a_directory_that_cannot_be_made_is_a_clear_error(app: App, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    environ = {ENV: str(blocker / "metrics")}
    with pytest.raises(StrmError, match=f"set {ENV} to a writable directory"):
        app.plugins.hook.strm_worker_processes(app=app, processes=2, environ=environ)


def test_an_unusable_directory_in_the_environment_stops_the_app_with_one_line(
    strm_app_factory: Callable[..., App], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv(ENV, str(blocker / "metrics"))
    app = strm_app_factory("prom-bad", plugins=["strm_sensor_prometheus"])
    with pytest.raises(StrmError, match=f"{ENV}=.* is not a writable directory"):
        app.configure()
