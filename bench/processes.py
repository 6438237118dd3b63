"""``strm worker --processes 2`` against one process: a word count on a real Kafka broker.

N words (``--words`` distinct, RocksDB table, at-least-once) are produced up front to an
8-partition topic; then ``strm -A processes_app worker [--processes 2]`` runs with a fresh group
until the group's committed offsets reach 90% of the topic, and is stopped with SIGTERM. The two
configurations alternate, ``--repeat`` times each. Progress is read from the broker every
0.1 s; the rate is taken from the first reading at or past 10% committed at which the group is
stable with every member holding partitions, to the first at or past 90%, or to the first at
which a member has less than 2.5% of the topic left on its partitions. That leaves out the
start-up (spawn, imports, group join, changelog topic creation), with two processes the
rebalance when the second child joins the group after the first has started on all 8
partitions and the time one child works alone at the end, and the end (see :func:`watch`).
Both ends are commits, so the records in between are counted exactly whatever
``--commit-interval`` (``broker_commit_interval``, strm's 2.8 s by default; a shorter one
writes more changelog records, as each checkpoint writes a key once).

Over the same window it reads the CPU time (user + system, ``/proc/<pid>/stat``) of the worker
(the parent and every child process) and of the broker's JVM, and the whole machine's busy time
(``/proc/stat``), and prints them per 100,000 events: the clock rate depends on what else runs
on the machine, the CPU seconds per event much less, and together they tell whether the cores
were full. ``--broker-cpus``/``--worker-cpus`` pin the broker (all its threads, ``taskset -a``)
and the workers (``taskset -c``, inherited by the children); ``--stateless`` runs an agent that
counts without a table, to separate the table's cost (RocksDB, changelog) from the rest.
Usage::

    uv run python bench/processes.py [--events 5000000] [--repeat 2] [--bootstrap HOST:PORT
        --broker-pid PID] [--broker-cpus 0 --worker-cpus 1] [--stateless] [--commit-interval 2.8]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment
from kafka import create_topics, produce, start_broker, stop_broker, warm_up_groups

HERE = Path(__file__).resolve().parent
PARTITIONS = 8
#: The window closes once a member has less than this share of the topic's records left
#: uncommitted on its partitions: from then on the other works alone.
NEARLY_DONE = 0.025
RUN = uuid.uuid4().hex[:8]
WAIT = 900.0
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process, all its threads (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (fields 14, 15)


def main_thread(pid: int) -> tuple[float, float]:
    """Seconds the process's main thread (the event loop) ran on a core, and waited in a run
    queue for one (``/proc/<pid>/task/<pid>/schedstat``): the rest of the time it slept, waiting
    for the network or a timer. (0, 0) once it is gone."""
    try:
        run, wait, _slices = Path(f"/proc/{pid}/task/{pid}/schedstat").read_text().split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0, 0.0
    return int(run) / 1e9, int(wait) / 1e9


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (the worker's parent and its children)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
            except (FileNotFoundError, ProcessLookupError):
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        todo.extend(parents.get(current, []))
    return out


def machine_busy() -> float:
    """Busy CPU seconds of the whole machine since boot (every core; idle and iowait left out)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / TICK


@dataclass
class Sample:
    """What the CPU counters read at one moment of a run."""

    clock: float
    workers: dict[int, tuple[float, float, float]]  # pid: CPU s, main thread ran s, waited s
    broker: float
    machine: float


def sample(worker: int, broker: int | None) -> Sample:
    return Sample(
        time.perf_counter(),
        {pid: (cpu_seconds(pid), *main_thread(pid)) for pid in descendants(worker)},
        cpu_seconds(broker) if broker else 0.0,
        machine_busy(),
    )


@dataclass
class Figures:
    """One run, from 10% committed (all members holding partitions) to 90%, or sooner (see
    :func:`watch`)."""

    rate: float
    opened: float  # seconds from the spawn to the window
    worker_cpu: float  # CPU seconds per 100,000 events, every worker process
    child_cpu: list[float]  # the same, per process (the parent included, first)
    broker_cpu: float
    cores: float  # machine busy seconds per second in the window
    ours: float  # worker + broker busy seconds per second
    shares: tuple[list[int], list[int]]  # partitions per member, window opened / closed
    loops: list[tuple[float, float]]  # per child: share of the window its loop ran, waited

    def line(self, processes: int, rep: int) -> str:
        per = " + ".join(f"{c:.2f}" for c in self.child_cpu)
        loops = ", ".join(f"{ran:.0%}/{waited:.0%}" for ran, waited in self.loops)
        return (
            f"{processes} process(es), run {rep + 1}: {self.rate:10,.0f} events/s, window from "
            f"{self.opened:4.1f} s after the spawn, partitions {self.shares[0]} -> "
            f"{self.shares[1]}; CPU s per 100k events: "
            f"workers {self.worker_cpu:.2f} ({per}), broker {self.broker_cpu:.2f}; cores busy: "
            f"{self.ours:.2f} ours, {self.cores:.2f} machine; event loops ran/waited for a "
            f"core: {loops}; load {os.getloadavg()[0]:.1f}"
        )


def figures(window: Window, spawned: float, root: int) -> Figures:
    first, last, events = window.first, window.last, window.events
    per = 100_000 / events
    seconds = last.clock - first.clock
    gone = (0.0, 0.0, 0.0)
    pids = [root, *sorted((set(first.workers) | set(last.workers)) - {root})]
    deltas = [
        [
            b - a
            for a, b in zip(first.workers.get(pid, gone), last.workers.get(pid, gone), strict=True)
        ]
        for pid in pids
    ]
    child = [cpu * per for cpu, _, _ in deltas]
    # with children, the parent (first) runs no worker's event loop
    loops = [(ran / seconds, waited / seconds) for _, ran, waited in deltas[len(pids) > 1 :]]
    broker = (last.broker - first.broker) * per
    return Figures(
        rate=events / seconds,
        opened=first.clock - spawned,
        worker_cpu=sum(child),
        child_cpu=child,
        broker_cpu=broker,
        cores=(last.machine - first.machine) / seconds,
        ours=(sum(child) + broker) / per / seconds,
        shares=window.shares,
        loops=loops,
    )


async def committed(admin: AIOKafkaAdminClient, group: str, topic: str) -> dict[int, int]:
    """The group's committed offset of each partition of ``topic`` that has one."""
    offsets = await admin.list_consumer_group_offsets(group)
    return {
        tp.partition: meta.offset
        for tp, meta in offsets.items()
        if tp.topic == topic and meta.offset > 0
    }


async def members(admin: AIOKafkaAdminClient, group: str, topic: str) -> list[list[int]] | None:
    """The partitions of ``topic`` each member of a stable group holds (``None`` while the
    group rebalances)."""
    (response,) = await admin.describe_consumer_groups([group])
    _error, _group, state, _type, _protocol, described = response.groups[0][:6]
    if state != "Stable":
        return None
    held = []
    for member in described:
        assignment = ConsumerProtocolMemberAssignment.decode(member[-1])
        held.append(
            sorted(p for name, parts in assignment.assignment if name == topic for p in parts)
        )
    return sorted(held, key=len)


@dataclass
class Window:
    """What a run measured: the CPU counters at the window's ends, the records committed in
    between, and each member's share of the partitions when the window opened and closed."""

    first: Sample
    last: Sample
    events: int
    shares: tuple[list[int], list[int]]


async def watch(
    bootstrap: str,
    group: str,
    topic: str,
    ends: dict[int, int],
    worker: int,
    broker: int | None,
    processes: int,
) -> Window:
    """The CPU counters when the group's committed offsets first reach 10% of the topic with
    every member holding partitions, and when they reach 90%, or sooner, once one member has
    all but ``NEARLY_DONE`` of its partitions' records committed. The window leaves out the
    start-up, including the rebalance when the second process joins after the first; the end,
    where the last commit comes up to a commit interval after the last record (idle time that
    is no part of the rate); and the time one process works alone because the first child left
    the other's partitions less full (it ran on all of them before the second joined)."""
    n = sum(ends.values())
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    opened: tuple[Sample, int, list[list[int]]] | None = None
    deadline = time.monotonic() + WAIT
    try:
        while time.monotonic() < deadline:
            offsets = await committed(admin, group, topic)
            done = sum(offsets.values())
            if opened is None and done >= n // 10:
                held = await members(admin, group, topic)
                if held is not None and len(held) == processes and min(map(len, held)) > 0:
                    opened = (sample(worker, broker), done, held)
            left = (
                min(sum(ends[p] - offsets.get(p, 0) for p in parts) for parts in opened[2])
                if opened is not None
                else n
            )
            if done >= n * 9 // 10 or left <= n * NEARLY_DONE:
                if opened is None:
                    raise RuntimeError(f"90% committed before the group of {processes} was stable")
                held = await members(admin, group, topic) or []
                last = sample(worker, broker)
                shares = ([len(p) for p in opened[2]], [len(p) for p in held])
                return Window(opened[0], last, done - opened[1], shares)
            await asyncio.sleep(0.1)
    finally:
        await admin.close()
    raise TimeoutError(f"group {group} did not commit {n} records within {WAIT:.0f} s")


@dataclass
class Setup:
    """What every run of one invocation shares."""

    bootstrap: str
    topic: str
    ends: dict[int, int]  # the topic's end offset of each partition
    workdir: str
    broker_pid: int | None
    worker_cpus: str | None
    stateless: bool
    commit_interval: float


def run(setup: Setup, processes: int, rep: int) -> Figures:
    app_id = f"bench-processes-{processes}-{rep}-{RUN}"
    env = {
        **os.environ,
        "BENCH_BOOTSTRAP": setup.bootstrap,
        "BENCH_TOPIC": setup.topic,
        "BENCH_APP_ID": app_id,
        "BENCH_STATELESS": "1" if setup.stateless else "",
        "BENCH_COMMIT_INTERVAL": str(setup.commit_interval),
        "PYTHONPATH": str(HERE),
    }
    argv = [
        *(["taskset", "-c", setup.worker_cpus] if setup.worker_cpus else []),
        sys.executable,
        "-m",
        "strm",
        "-A",
        "processes_app",
        "--datadir",
        str(Path(setup.workdir) / app_id),
        "worker",
        "-l",
        "warning",
    ]
    if processes > 1:
        argv += ["--processes", str(processes)]
    log = open(Path(setup.workdir) / f"{app_id}.log", "w")  # noqa: SIM115 - closed below
    spawned = time.perf_counter()
    worker = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=HERE)
    try:
        window = asyncio.run(
            watch(
                setup.bootstrap,
                app_id,
                setup.topic,
                setup.ends,
                worker.pid,
                setup.broker_pid,
                processes,
            )
        )
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(120)
        log.close()
    result = figures(window, spawned, worker.pid)
    print(result.line(processes, rep), flush=True)
    return result


def pin_broker(pid: int, cpus: str) -> None:
    """Every thread of the broker's JVM onto ``cpus`` (threads started later inherit it)."""
    subprocess.run(["taskset", "-a", "-p", "-c", cpus, str(pid)], check=True, capture_output=True)


def summary(results: dict[int, list[Figures]]) -> None:
    for rep in range(len(results[1])):
        ratio = results[2][rep].rate / results[1][rep].rate
        print(f"run {rep + 1}: 2 processes / 1 process = {ratio:.2f}")
    for processes, runs in results.items():
        worker = statistics.median(r.worker_cpu for r in runs)
        broker = statistics.median(r.broker_cpu for r in runs)
        rate = statistics.median(r.rate for r in runs)
        print(
            f"{processes} process(es), medians: {rate:,.0f} events/s; CPU s per 100k events: "
            f"workers {worker:.2f} + broker {broker:.2f} = {worker + broker:.2f}, i.e. "
            f"{2 * 100_000 / (worker + broker):,.0f} events/s at most on 2 "
            f"cores; workers alone on 1 core: {100_000 / worker:,.0f} events/s at most"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    # Not fewer: the first child starts on all 8 partitions alone, and at 250,000 events/s it
    # had worked through most of 1,000,000 by the time the second joined (bench/README.md).
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--words", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--bootstrap")
    parser.add_argument("--broker-pid", type=int, help="the broker's JVM, with --bootstrap")
    parser.add_argument("--broker-cpus", help="taskset CPU list for the broker, e.g. 0")
    parser.add_argument("--worker-cpus", help="taskset CPU list for the workers, e.g. 1")
    parser.add_argument("--stateless", action="store_true", help="count without a table")
    parser.add_argument(
        "--commit-interval", type=float, default=2.8, help="broker_commit_interval (strm's default)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="strm-bench-processes-") as workdir:
        bootstrap, broker_pid = args.bootstrap, args.broker_pid
        if bootstrap is None:
            state = start_broker(str(Path(workdir) / "broker"))
            bootstrap, broker_pid = state["bootstrap"], state["nodes"][0]["pid"]
        try:
            if args.broker_cpus:
                if broker_pid is None:
                    raise SystemExit("--broker-cpus needs the broker's PID (--broker-pid)")
                pin_broker(broker_pid, args.broker_cpus)
            vocabulary = [f"word{i}" for i in range(args.words)]
            records = [
                (hash(w) % PARTITIONS, w.encode(), json.dumps(w).encode())
                for w in (vocabulary[i % args.words] for i in range(args.events))
            ]
            ends = dict.fromkeys(range(PARTITIONS), 0)
            for partition, _key, _value in records:
                ends[partition] += 1
            setup = Setup(
                bootstrap,
                f"bench-processes-{RUN}",
                ends,
                workdir,
                broker_pid,
                args.worker_cpus,
                args.stateless,
                args.commit_interval,
            )
            asyncio.run(create_topics(bootstrap, [setup.topic], PARTITIONS))
            asyncio.run(produce(bootstrap, setup.topic, records))
            del records
            asyncio.run(warm_up_groups(bootstrap, setup.topic))
            results: dict[int, list[Figures]] = {1: [], 2: []}
            for rep in range(args.repeat):
                for processes in (1, 2):
                    results[processes].append(run(setup, processes, rep))
            summary(results)
        finally:
            if args.bootstrap is None:
                stop_broker(str(Path(workdir) / "broker"))


if __name__ == "__main__":
    main()
