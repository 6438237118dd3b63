"""The services an app runs (``@app.service``, ``app.add_service``): how one is made from its
class and run while the app runs, its crash crashing the app."""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from strm.kernel.app_protocol import AppLike

from strm.runtime.service_types import ServiceT
from strm.services import Service

# -- services of an app --------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def run_with_app(app: AppLike, service: ServiceT) -> AsyncIterator[ServiceT]:
    """Run ``service`` while ``app`` runs (``@app.service``): its crash crashes the app."""
    if isinstance(service, Service):
        service._on_crash = app.crash
    try:
        async with service:
            yield service
    finally:
        if isinstance(service, Service):
            service._on_crash = None


def instantiate(cls: type[Service], app: AppLike) -> Service:
    """An instance of ``cls`` for ``@app.service``: Faust gives a service class no argument;
    strm gives it the app when its constructor requires a positional argument."""
    construct: Callable[..., Service] = cls
    try:
        parameters = inspect.signature(cls).parameters.values()
    except (TypeError, ValueError):
        return construct()
    needs_app = any(
        p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
        for p in parameters
    )
    return construct(app) if needs_app else construct()
