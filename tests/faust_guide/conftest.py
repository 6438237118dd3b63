"""The guide's apps are written as Faust users write them (``faust.App('id')``); their web
servers would listen on 0.0.0.0:6066, and tests bind loopback only, so the environment turns
them off, as an operator of a worker without views would."""

import pytest


@pytest.fixture(autouse=True)
def _without_web_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_WEB_ENABLED", "false")
