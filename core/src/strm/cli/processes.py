"""``strm worker --processes N``: use a machine's cores with N workers in one group.

Each child is a complete worker (``python -m strm ... worker``) with its own data directory
(``<datadir>/worker-<i>``, since stores such as RocksDB allow one process per directory). The
parent forwards SIGINT and SIGTERM, waits for every child, and exits with the worst exit code.
The children run in a process group of their own, so that a Ctrl-C at the terminal reaches them
once, through the parent, and not a second time directly: a worker takes a second signal as a
request to exit at once.

Each child also gets a web server of its own: child ``i`` listens on ``web_port + i`` (6066,
6067, ... by default), or, with ``web_transport='unix:///run/app.sock'``, on
``/run/app-<i>.sock``. Its ``canonical_url`` follows its port unless it was set explicitly.

Each child is a member of the group of its own: with static membership
(``consumer_group_instance_id``) child ``i`` joins as ``<id>-<i>``, given in its environment
(which takes precedence over ``App(...)``). The same id for all would let each child's join
fence the one before, and none would keep its partitions.

Before the children start, plugins may add to their environment (``strm_worker_processes``):
a metrics plugin names the directory the children share their figures through.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from strm.kernel.errors import BackendNotFoundError, StrmError
from strm.kernel.settings.types import url_scheme

if TYPE_CHECKING:
    from strm.app import App

#: How long children get to stop after a signal before they are killed.
STOP_GRACE = 90.0


def child_argv(argv: Sequence[str], index: int, datadir: str, web: Sequence[str] = ()) -> list[str]:
    """The parent's command line without ``--processes``, with a datadir of its own and the
    ``web`` options of :func:`child_web_options` (after the parent's, so they win)."""
    out: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg in ("-n", "--processes"):
            skip = True
            continue
        if arg.startswith("--processes=") or (arg.startswith("-n") and arg[2:].isdigit()):
            continue  # also "-n2": a child given it would start children of its own
        out.append(arg)
    worker_at = out.index("worker")
    return [
        *out[:worker_at],
        "--datadir",
        os.path.join(datadir, f"worker-{index}"),
        *out[worker_at:],
        *web,
    ]


def child_web_options(app: App, index: int) -> list[str]:
    """``worker`` options giving child ``index`` a web listener of its own; none when no web
    server runs (off, or no driver plugin: the children then say so themselves)."""
    conf = app.conf
    if not conf.web_enabled:
        return []
    try:
        app.resolve_backend("web")
    except BackendNotFoundError:
        return []
    transport = str(conf.web_transport)
    if url_scheme(transport) == "unix":
        root, ext = os.path.splitext(transport.partition("://")[2])
        return ["--web-transport", f"unix://{root}-{index}{ext}"]
    port = int(conf.web_port) + index
    if port > 65535:
        raise StrmError(
            f"--processes: web_port {conf.web_port} + {index} is past 65535; "
            "choose a lower --web-port"
        )
    return ["--web-port", str(port)]


def child_environ(app: App, environ: Mapping[str, str], index: int) -> dict[str, str]:
    """The environment of child ``index``: its number and, under static membership, a group
    instance id of its own (``<id>-<index>``: stable across restarts, distinct between the
    children)."""
    out = {**environ, "STRM_WORKER_INDEX": str(index)}
    conf = app.conf
    instance = conf.consumer_group_instance_id
    if instance:
        out[f"{conf.env_prefix or ''}CONSUMER_GROUP_INSTANCE_ID"] = f"{instance}-{index}"
    return out


def run_processes(app: App, argv: Sequence[str], processes: int) -> int:
    scheme = url_scheme(app.conf.broker_consumer[0])
    if scheme == "memory":
        raise StrmError(
            "--processes needs a broker the processes share: memory:// lives inside one "
            "process (use kafka://, or run one worker)"
        )
    datadir = str(app.conf.datadir)
    environ = dict(os.environ)
    app.plugins.hook.strm_worker_processes(app=app, processes=processes, environ=environ)
    children = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "strm",
                *child_argv(argv, index, datadir, child_web_options(app, index)),
            ],
            env=child_environ(app, environ, index),
            process_group=0,
        )
        for index in range(processes)
    ]
    stopping = False

    def forward(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while any(child.poll() is None for child in children):
            if not stopping and any(child.poll() not in (None, 0) for child in children):
                forward(signal.SIGTERM, None)  # one failed: stop the others
            time.sleep(0.2)
            if stopping:
                _wait_or_kill(children)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    codes: list[int] = [abs(child.returncode or 0) for child in children]
    return max(codes)


def _wait_or_kill(children: Sequence[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + STOP_GRACE
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
