"""Events per second of the stream path on the embedded ``memory://`` transport.

Measures, in one run on this machine:
  1. a bare ``asyncio.Queue`` consumer loop (the floor any asyncio framework pays),
  2. a stateless agent reading a topic (decode JSON, iterate, acknowledge, commit),
  3. ``group_by`` + agent (re-key, produce to a repartition topic, read it again),
  4. an agent reading ``stream.batches(max=1000, within=0.1)`` (lists of values),
  5. the stateless agent with the Monitor on (the default) and off (``Monitor=strm.NoMonitor``),
     interleaved ``--monitor-rounds`` times, each run in a fresh process, in events per CPU
     second, and the median ratio of the pairs (the Monitor's overhead: budget 5 %); then the
     same for an agent relaying each event to another topic (a quarter of the events), which
     adds the producer path's per-record count,
and prints each with its ratio to the bare loop. Records are produced before the clock starts,
so only consumption is timed. Usage::

    uv run python bench/stream_path.py [--events 200000] [--monitor-rounds 7] [--stdlib-json]

``--stdlib-json`` makes the JSON codec decode with the standard library even where msgspec (the
``strm[msgspec]`` extra) is installed, to measure what the extra brings.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import strm
from strm.builtins.memory_transport import drop_broker, get_broker, unique_url
from strm.codecs import builtin
from strm.kernel.spi import ProducerRecord, TopicSpec

CPU = time.process_time
VALUE = json.dumps({"word": "x" * 80, "n": 1}).encode()  # ~100-byte values


async def bare_queue(n: int) -> float:
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for _ in range(n):
        queue.put_nowait(VALUE)
    count = 0
    started = time.perf_counter()
    while count < n:
        value = await queue.get()
        json.loads(value)
        count += 1
    return n / (time.perf_counter() - started)


def preload(url: str, topic: str, n: int, partitions: int) -> None:
    broker = get_broker(url)
    broker.create_topic(TopicSpec(topic, partitions))
    log = broker.topic(topic, lambda: partitions)
    for i in range(n):
        log.append(ProducerRecord(topic, i % partitions, str(i).encode(), VALUE))


async def run_app(
    n: int,
    *,
    group_by: bool,
    batches: bool = False,
    monitor: bool = True,
    relay: bool = False,
    clock: Callable[[], float] = time.perf_counter,
) -> float:
    """Events per second of ``clock``: wall time by default; the Monitor pairs use CPU time
    (``time.process_time``), which other processes on a shared machine disturb far less."""
    url = unique_url("bench")
    app = strm.App(
        "bench",
        broker=url,
        environ={},
        entry_points=False,
        topic_partitions=4,
        stream_buffer_maxsize=65_536,
        broker_commit_every=100_000,
        **({} if monitor else {"Monitor": strm.NoMonitor}),
    )
    preload(url, "input", n, 4)
    topic = app.topic("input")
    output = app.topic("output", partitions=4)
    done = asyncio.Event()
    count = 0

    @app.agent(topic)
    async def consume(stream: Any) -> None:
        nonlocal count
        if batches:
            async for batch in stream.batches(max=1000, within=0.1):
                count += len(batch)
                if count >= n:
                    done.set()
            return
        source = stream.group_by(lambda v: v["word"], name="word") if group_by else stream
        async for value in source:
            if relay:
                await output.send(value=value)
            count += 1
            if count == n:
                done.set()

    started = clock()
    async with app.running():
        await asyncio.wait_for(done.wait(), 600)
        elapsed = clock() - started
    drop_broker(url)
    return n / elapsed


#: The cases ``--one`` runs alone in a fresh process: (Monitor on, relay).
CASES = {
    "stateless-on": (True, False),
    "stateless-off": (False, False),
    "relay-on": (True, True),
    "relay-off": (False, True),
}


async def one_case(case: str, n: int) -> float:
    """Run one case in a fresh interpreter and read its events per CPU second: a run after
    others in the same process is slowed by what they left (its heap, the memory broker's
    garbage), which would favour whichever side of a pair runs first."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--one", case, "--events", str(n),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    out, _ = await proc.communicate()
    if proc.returncode:
        raise RuntimeError(f"bench case {case} exited with {proc.returncode}")
    return float(out.decode().split()[-1])


async def monitor_overhead(n: int, rounds: int, relay: bool = False) -> tuple[float, float, float]:
    """Median events per CPU second with the Monitor on and off, and the median ratio on/off
    of the pairs: the two runs of a pair follow each other (their order alternating), so that
    a machine slowed by other work slows both."""
    kind = "relay" if relay else "stateless"
    on, off, ratios = [], [], []
    for i in range(rounds):
        if i % 2:
            b = await one_case(f"{kind}-off", n)
            a = await one_case(f"{kind}-on", n)
        else:
            a = await one_case(f"{kind}-on", n)
            b = await one_case(f"{kind}-off", n)
        on.append(a)
        off.append(b)
        ratios.append(a / b)
    print(f"{kind} pairs on/off: " + ", ".join(f"{r:.3f}" for r in ratios))
    return statistics.median(on), statistics.median(off), statistics.median(ratios)


async def main(n: int, rounds: int) -> None:
    floor = await bare_queue(n)
    stateless = await run_app(n, group_by=False)
    grouped = await run_app(n // 4, group_by=True)
    batched = await run_app(n, group_by=False, batches=True)
    decoder = "msgspec" if builtin._FAST_LOADS is not None else "the standard library"
    print(f"events: {n} (group_by: {n // 4}), 100-byte JSON values, memory:// transport")
    print(f"strm's JSON codec decodes with {decoder}; the bare loop with json.loads")
    print(f"{'bare asyncio.Queue loop':32} {floor:12,.0f} events/s  1.00")
    print(f"{'stateless agent':32} {stateless:12,.0f} events/s  {stateless / floor:.2f}")
    print(f"{'group_by + agent':32} {grouped:12,.0f} events/s  {grouped / floor:.2f}")
    print(f"{'stream.batches(max=1000) agent':32} {batched:12,.0f} events/s  {batched / floor:.2f}")
    if rounds:
        on, off, ratio = await monitor_overhead(n, rounds)
        print(f"{'stateless, Monitor on':32} {on:12,.0f} events/CPU-s (median)")
        print(f"{'stateless, Monitor off':32} {off:12,.0f} events/CPU-s (median)")
        print(f"Monitor on/off, median of {rounds} interleaved pairs: {ratio:.3f}")
        on, off, ratio = await monitor_overhead(n // 4, rounds, relay=True)
        print(f"{'relay, Monitor on':32} {on:12,.0f} events/CPU-s (median)")
        print(f"{'relay, Monitor off':32} {off:12,.0f} events/CPU-s (median)")
        print(f"relay Monitor on/off, median of {rounds} interleaved pairs: {ratio:.3f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--monitor-rounds", type=int, default=7)
    parser.add_argument("--one", choices=sorted(CASES), help="run one case (used by the pairs)")
    parser.add_argument("--stdlib-json", action="store_true", help="decode without msgspec")
    args = parser.parse_args()
    if args.stdlib_json:
        builtin._FAST_LOADS = None
    if args.one:
        monitor, relay = CASES[args.one]
        rate = asyncio.run(
            run_app(args.events, group_by=False, monitor=monitor, relay=relay, clock=CPU)
        )
        print(f"{rate:.1f}")
    else:
        asyncio.run(main(args.events, args.monitor_rounds))
