"""Real Redis servers for the tests: Debian's ``redis-server`` on free ports of 127.0.0.1.

A :class:`RedisServer` is one process on a fixed port, stopped and started again on the same
port at will; a :class:`RedisCluster` is three of them made one cluster by ``redis-cli``. Every
wait is bounded (a port answering, a process ending, the cluster's state); nothing sleeps for
luck. Without ``redis-server`` and ``redis-cli`` the tests are skipped, or fail under
``STRM_TESTS_NO_SKIP=1`` (CI installs them: ``.ci/run``).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Collection
from pathlib import Path

import pytest

HOST = "127.0.0.1"
#: The longest a server may take to answer after it is started, or to go after it is stopped.
START_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0
#: The longest a new or restarted cluster may take to report ``cluster_state:ok``.
CLUSTER_TIMEOUT = 30.0
POLL = 0.02
#: A cluster node also listens on its port + 10000 (the cluster bus).
BUS_OFFSET = 10000
CLUSTER_OPTIONS = (
    "--cluster-enabled", "yes",
    "--cluster-config-file", "nodes.conf",
    "--cluster-node-timeout", "2000",
)  # fmt: skip
CREATE_OPTIONS = ("--cluster-replicas", "0", "--cluster-yes")


def require_redis() -> tuple[str, str]:
    """``redis-server`` and ``redis-cli``, or skip (fail under STRM_TESTS_NO_SKIP=1)."""
    server, cli = shutil.which("redis-server"), shutil.which("redis-cli")
    if server and cli:
        return server, cli
    why = "redis-server and redis-cli are needed (apt-get install redis-server)"
    if os.environ.get("STRM_TESTS_NO_SKIP") == "1":
        pytest.fail(f"{why}; STRM_TESTS_NO_SKIP=1 turns this skip into a failure", pytrace=False)
    pytest.skip(why)


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def free_port(*, with_bus: bool = False, taken: Collection[int] = ()) -> int:
    """A port of 127.0.0.1 nobody listens on (and its bus port, for a cluster node)."""
    for _ in range(100):
        with socket.socket() as sock:
            sock.bind((HOST, 0))
            port: int = sock.getsockname()[1]
        if port in taken or port + BUS_OFFSET in taken:
            continue
        if not with_bus or (port + BUS_OFFSET < 65536 and _port_free(port + BUS_OFFSET)):
            return port
    raise RuntimeError("no free port pair found in 100 tries")


def ping(port: int, timeout: float = 0.5) -> bool:
    """Whether a Redis server answers on ``port`` (a NOAUTH refusal is an answer too)."""
    try:
        with socket.create_connection((HOST, port), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            reply = sock.recv(64)
    except OSError:
        return False
    return reply.startswith((b"+PONG", b"-NOAUTH"))


class RedisServer:
    """One ``redis-server`` process on a fixed port; stop and start it again at will."""

    def __init__(
        self, binary: str, directory: Path, port: int, *options: str, password: str | None = None
    ) -> None:
        self.binary = binary
        self.directory = directory
        self.port = port
        self.password = password
        self.options = options
        self.process: subprocess.Popen[bytes] | None = None
        directory.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}{HOST}:{self.port}"

    def start(self) -> None:
        assert self.process is None, "already running"
        command = [
            self.binary,
            "--bind", HOST,
            "--port", str(self.port),
            "--dir", str(self.directory),
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
            "--logfile", str(self.directory / "redis.log"),
            *self.options,
        ]  # fmt: skip
        if self.password:
            command += ["--requirepass", self.password]
        self.process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + START_TIMEOUT
        for _ in range(int(START_TIMEOUT / POLL) + 1):
            if ping(self.port):
                return
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode() if self.process.stderr else ""
                self.process = None
                raise RuntimeError(f"redis-server on port {self.port} exited: {err}{self.log()}")
            if time.monotonic() > deadline:
                break
            time.sleep(POLL)
        self.stop()
        raise RuntimeError(f"redis-server on port {self.port} did not answer in {START_TIMEOUT} s")

    def stop(self) -> None:
        """Stop the process and return once the port no longer answers."""
        process, self.process = self.process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT)
        if process.stderr:
            process.stderr.close()
        assert not ping(self.port), f"port {self.port} still answers after redis-server stopped"

    async def astop(self) -> None:
        await asyncio.to_thread(self.stop)

    async def astart(self) -> None:
        await asyncio.to_thread(self.start)

    def log(self) -> str:
        path = self.directory / "redis.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""


class RedisCluster:
    """Three masters (no replicas) on free ports, made one cluster with ``redis-cli``."""

    def __init__(self, binary: str, cli: str, directory: Path, size: int = 3) -> None:
        self.cli = cli
        ports: list[int] = []
        for _ in range(size):
            ports.append(free_port(with_bus=True, taken=ports + [p + BUS_OFFSET for p in ports]))
        self.nodes = [
            RedisServer(binary, directory / f"node{i}", port, *CLUSTER_OPTIONS)
            for i, port in enumerate(ports)
        ]

    @property
    def url(self) -> str:
        return f"rediscluster://{HOST}:{self.nodes[0].port}"

    def create(self) -> None:
        for node in self.nodes:
            node.start()
        addresses = [f"{HOST}:{node.port}" for node in self.nodes]
        subprocess.run(
            [self.cli, "--cluster", "create", *addresses, *CREATE_OPTIONS],
            check=True,
            capture_output=True,
            timeout=CLUSTER_TIMEOUT,
        )
        self.wait_ok()

    def wait_ok(self) -> None:
        """Return once every node says ``cluster_state:ok`` (after creation or a restart)."""
        deadline = time.monotonic() + CLUSTER_TIMEOUT
        for _ in range(int(CLUSTER_TIMEOUT / 0.05) + 1):
            if all(self._state_ok(node) for node in self.nodes):
                return
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        raise RuntimeError(f"the cluster was not ok within {CLUSTER_TIMEOUT} s")

    def _state_ok(self, node: RedisServer) -> bool:
        info = subprocess.run(
            [self.cli, "-h", HOST, "-p", str(node.port), "cluster", "info"],
            capture_output=True,
            text=True,
            timeout=5,
        )
        return "cluster_state:ok" in info.stdout

    def flush(self) -> None:
        for node in self.nodes:
            subprocess.run(
                [self.cli, "-h", HOST, "-p", str(node.port), "flushall"],
                check=True,
                capture_output=True,
                timeout=5,
            )

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    def start(self) -> None:
        """Start every node again on its port and config file; they re-form the cluster."""
        for node in self.nodes:
            node.start()
        self.wait_ok()

    async def astop(self) -> None:
        await asyncio.to_thread(self.stop)

    async def astart(self) -> None:
        await asyncio.to_thread(self.start)


def flushall(port: int) -> None:
    with socket.create_connection((HOST, port), timeout=5) as sock:
        sock.sendall(b"FLUSHALL\r\n")
        assert sock.recv(64).startswith(b"+OK")
