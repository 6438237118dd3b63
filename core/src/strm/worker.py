"""The worker: runs an app in this process until SIGINT or SIGTERM, then stops it cleanly."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

from strm.blocking import BlockingDetector
from strm.errors import ConfigurationError, StrmError
from strm.worker_logging import redirected_stdouts, setup_logging

if TYPE_CHECKING:
    from strm.app import App

logger = logging.getLogger("strm.worker")

LOOPS = ("asyncio", "uvloop")


def loop_factory(name: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The event loop factory for ``--loop``; ``None`` means asyncio's default."""
    if name == "asyncio":
        return None
    if name == "uvloop":
        try:
            import uvloop
        except ImportError:
            raise ConfigurationError(
                "--loop uvloop needs the uvloop package: pip install 'strm[uvloop]'"
            ) from None
        factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
        return factory
    raise ConfigurationError(f"--loop: unknown event loop {name!r}; choose one of {LOOPS}")


class Worker:
    """Runs one app: logging, signals, the blocking detector, start and a bounded stop."""

    def __init__(
        self,
        app: App,
        *,
        loglevel: int | str = logging.WARNING,
        logfile: str | None = None,
        loop: str = "asyncio",
        blocking_timeout: float | None = None,
        debug: bool = False,
        shutdown_timeout: float = 60.0,
    ) -> None:
        self.app = app
        self.loglevel = logging.getLevelName(loglevel) if isinstance(loglevel, str) else loglevel
        self.logfile = logfile
        self.loop = loop
        self.blocking_timeout = blocking_timeout
        self.debug = debug
        self.shutdown_timeout = shutdown_timeout
        self._stop_requested: asyncio.Event | None = None
        self.loop_name_used: str | None = None

    def execute(self) -> int:
        """Run until stopped; the process exit code: 0 on a clean stop, 1 on a crash."""
        factory = loop_factory(self.loop)
        conf = self.app.conf
        setup_logging(conf, loglevel=self.loglevel, logfile=self.logfile)
        debug = self.debug or bool(conf.debug)
        if debug:
            logger.warning("debug mode is on: asyncio runs in debug mode (slower)")
        with redirected_stdouts(conf), asyncio.Runner(debug=debug, loop_factory=factory) as runner:
            try:
                runner.run(self.run())
            except StrmError:
                raise
            except Exception:
                logger.exception("worker of app %r crashed", conf.id)
                return 1
        if self.app.crash_error is not None:
            return 1
        return 0

    async def run(self) -> None:
        """Start the app, wait for a stop request or signal, stop the app."""
        self._stop_requested = asyncio.Event()
        self.loop_name_used = type(asyncio.get_running_loop()).__module__.partition(".")[0]
        # Configured first, so plugins see strm_app_configured before strm_worker_starting.
        app = self.app.configure()
        hooks = app.plugins.hook
        timeout = self.blocking_timeout
        if timeout is None:
            timeout = app.conf.blocking_timeout
        async with AsyncExitStack() as stack:
            self._install_signal_handlers(stack)
            hooks.strm_worker_starting(app=app)
            if timeout:
                await stack.enter_async_context(BlockingDetector(timeout))
            try:
                await app.start()
                logger.info("worker of app %r is ready", app.conf.id)
                await self._wait_for_stop_or_crash()
            finally:
                hooks.strm_worker_stopping(app=app)
                await self._stop_app()

    async def _wait_for_stop_or_crash(self) -> None:
        assert self._stop_requested is not None
        stop = asyncio.ensure_future(self._stop_requested.wait())
        crash = asyncio.ensure_future(self.app.wait_crashed())
        try:
            await asyncio.wait({stop, crash}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in (stop, crash):
                waiter.cancel()
        if crash.done() and not crash.cancelled():
            logger.error(
                "worker of app %r is stopping because a part of it failed: %s: %s",
                self.app.conf.id,
                type(crash.result()).__name__,
                crash.result(),
            )
        else:
            logger.info("worker of app %r is stopping", self.app.conf.id)

    async def _stop_app(self) -> None:
        try:
            async with asyncio.timeout(self.shutdown_timeout):
                await self.app.stop()
        except TimeoutError:
            logger.error(
                "app %r did not stop within %g s; exiting anyway",
                self.app.conf.id,
                self.shutdown_timeout,
            )

    def stop(self) -> None:
        """Ask the worker to stop (from the loop's thread)."""
        if self._stop_requested is not None:
            self._stop_requested.set()

    def _install_signal_handlers(self, stack: AsyncExitStack) -> None:
        """Handle SIGINT and SIGTERM until ``stack`` closes, so that after ``run()`` returns a
        signal no longer reaches a worker that has stopped."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, self._on_signal, sig)
            except (NotImplementedError, RuntimeError):  # not the main thread
                logger.debug("cannot handle %s outside the main thread", sig.name)
            else:
                stack.callback(loop.remove_signal_handler, sig)

    def _on_signal(self, sig: signal.Signals, *_: Any) -> None:
        if self._stop_requested is not None and self._stop_requested.is_set():
            logger.warning("%s received again; still stopping", sig.name)
            return
        logger.warning("%s received: stopping", sig.name)
        self.stop()
