"""The worker: runs an app in this process until SIGINT or SIGTERM, then stops it cleanly; a
second signal while it stops exits at once."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from strm.kernel.errors import ConfigurationError, StrmError
from strm.runtime.blocking import BlockingDetector
from strm.runtime.worker_console import RecoveryDisplay, WorkerConsole
from strm.runtime.worker_logging import redirected_stdouts, setup_logging
from strm.runtime.worker_ready import ready_parts

if TYPE_CHECKING:
    from strm.kernel.app_protocol import AppLike

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
        app: AppLike,
        *,
        loglevel: int | str = logging.WARNING,
        logfile: str | None = None,
        log_format: str = "text",
        loop: str = "asyncio",
        blocking_timeout: float | None = None,
        debug: bool = False,
        shutdown_timeout: float = 60.0,
    ) -> None:
        self.app = app
        self.loglevel = logging.getLevelName(loglevel) if isinstance(loglevel, str) else loglevel
        self.logfile = logfile
        self.log_format = log_format
        self.loop = loop
        self.blocking_timeout = blocking_timeout
        self.debug = debug
        self.shutdown_timeout = shutdown_timeout
        self._stop_requested: asyncio.Event | None = None
        self.loop_name_used: str | None = None
        #: Silent unless :meth:`execute` runs the worker (the ``strm worker`` command).
        self.console = WorkerConsole(None)

    def execute(self) -> int:
        """Run until stopped; the process exit code: 0 on a clean stop, 1 on a crash."""
        factory = loop_factory(self.loop)
        conf = self.app.conf
        setup_logging(
            conf, loglevel=self.loglevel, logfile=self.logfile, log_format=self.log_format
        )
        debug = self.debug or bool(conf.debug)
        if debug:
            logger.warning("debug mode is on: asyncio runs in debug mode (slower)")
        self.console = WorkerConsole(self._console_stream())  # before print() is redirected
        with redirected_stdouts(conf), asyncio.Runner(debug=debug, loop_factory=factory) as runner:
            try:
                runner.run(self.run())
            except StrmError:
                raise
            except Exception as exc:
                if exc is not self.app.crash_error:  # a crash was logged where it happened
                    logger.exception("worker of app %r crashed", conf.id)
                return 1
        if self.app.crash_error is not None:
            return 1
        return 0

    def _console_stream(self) -> TextIO | None:
        """stderr, unless the log already tells it there (INFO records on stderr) or stderr
        must carry nothing but JSON lines."""
        if self.log_format != "text":
            return None
        if self.logfile is None and self.loglevel <= logging.INFO:
            return None
        return sys.stderr

    async def run(self) -> None:
        """Start the app, wait for a stop request or signal, stop the app."""
        started = time.monotonic()
        self._stop_requested = asyncio.Event()
        self.loop_name_used = type(asyncio.get_running_loop()).__module__.partition(".")[0]
        # Configured first, so plugins see strm_app_configured before strm_worker_starting.
        app = self.app.configure()
        app.runtime.tracebacks = self.debug or bool(app.conf.debug)
        hooks = app.plugins.hook
        if self.console.interactive:
            app.sensors.add(RecoveryDisplay(self.console))
        timeout = self.blocking_timeout
        if timeout is None:
            timeout = app.conf.blocking_timeout
        async with AsyncExitStack() as stack:
            self._install_signal_handlers(stack)
            hooks.strm_worker_starting(app=app)
            app.on_worker_init.send()
            if timeout:
                await stack.enter_async_context(BlockingDetector(timeout))
            try:
                await app.start()
                self._announce_ready(time.monotonic() - started)
                await self._wait_for_stop_or_crash()
            finally:
                hooks.strm_worker_stopping(app=app)
                await self._stop_app()

    def _announce_ready(self, seconds: float) -> None:
        app = self.app
        parts = ", ".join(ready_parts(app))
        self.console.say(f"app {app.conf.id!r} ready in {seconds:.2f} s: {parts}")
        logger.info("worker of app %r is ready in %.2f s: %s", app.conf.id, seconds, parts)

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
            # The failure had its ERROR line where it happened (strm.runtime): one line, with
            # the traceback under --debug.
            logger.info(
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
            self._exit_now(sig)
        logger.warning("%s received: stopping (a second signal exits at once)", sig.name)
        self.stop()

    def _exit_now(self, sig: signal.Signals) -> NoReturn:
        """A second signal: whoever sent it will not wait for the clean stop (a stuck agent, a
        broker that is gone). Nothing more is committed; records processed since the last
        commit are processed again after the restart. The exit code is 128 + the signal's
        number, as a shell reports a process the signal killed."""
        logger.warning("second %s: exiting now without a clean stop", sig.name)
        sys.stdout.flush()
        sys.stderr.flush()
        logging.shutdown()
        os._exit(128 + sig.value)
