"""End-to-end latency on a real Kafka broker: produce time to agent, at a fixed offered rate.

For a strm stateless agent and a strm word count (RocksDB, at-least-once), each at 10,000
events/s and at 50% of its saturation rate (measured first in the same run: the rate after the
first event while a backlog of ``--backlog`` events is consumed), a load generator in another
process produces JSON values ``{"w": word, "t": time.time()}`` (``--words`` distinct words, the
word as the key) at the offered rate for ``--seconds`` seconds, while the agent records
``time.time() - t`` for every event. The first ``--warm-up`` seconds are left out. The generator
is confluent-kafka (librdkafka, ``linger.ms=1``) from a throwaway virtual environment when uv
can make one, else aiokafka (``linger_ms=1``); its achieved rate is printed too. Before the
first case, ``--broker-warm-up`` seconds of the same load, untimed: a broker just started
answers late for a while. Usage::

    uv run python bench/latency.py [--seconds 20] [--bootstrap HOST:PORT]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import uuid
from pathlib import Path
from typing import Any

from kafka import create_topics, produce, start_broker, stop_broker
from kafka_others import framework_python

HERE = Path(__file__).resolve().parent
PARTITIONS = 8
RUN = uuid.uuid4().hex[:8]

GENERATOR = textwrap.dedent("""
    import json, sys, time
    bootstrap, topic, rate, seconds, words = sys.argv[1:6]
    rate, seconds, words = float(rate), float(seconds), int(words)
    keys = [f"word{i}" for i in range(words)]
    try:
        from confluent_kafka import Producer
    except ImportError:
        Producer = None
    if Producer is not None:
        producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 1, "acks": 1})
        def send(key, value):
            while True:
                try:
                    producer.produce(topic, value, key)
                    break
                except BufferError:
                    producer.poll(0.001)
            producer.poll(0)
        def close():
            producer.flush(30)
        kind = "confluent-kafka"
        run = lambda main: main()
    else:
        import asyncio
        from aiokafka import AIOKafkaProducer
        kind = "aiokafka"
    def pace(send_one):
        started = time.time()
        sent = 0
        while True:
            now = time.time()
            if now - started >= seconds:
                return sent, now - started
            due = int((now - started) * rate)
            while sent < due:
                key = keys[sent % words]
                send_one(key.encode(), json.dumps({"w": key, "t": time.time()}).encode())
                sent += 1
            yield
    if Producer is not None:
        gen = pace(send)
        try:
            while True:
                next(gen)
                time.sleep(0.001)
        except StopIteration as stop:
            sent, elapsed = stop.value
        close()
    else:
        async def main():
            producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=1, acks=1)
            await producer.start()
            pending = []
            gen = pace(lambda k, v: pending.append(producer.send(topic, v, key=k)))
            try:
                while True:
                    next(gen)
                    if pending:
                        await asyncio.gather(*pending)
                        pending.clear()
                    await asyncio.sleep(0.001)
            except StopIteration as stop:
                result = stop.value
            await asyncio.gather(*pending)
            await producer.stop()
            return result
        sent, elapsed = asyncio.run(main())
    print(json.dumps({"generator": kind, "sent": sent, "rate": sent / elapsed}))
""")


def agent(
    bootstrap: str, topic: str, case: str, seconds: float, warm_up: float, generator: list[str]
) -> dict[str, Any]:
    """Run the agent in a process of its own and the generator beside it; the agent's figures."""
    argv = [
        sys.executable,
        str(HERE / "latency_agent.py"),
        bootstrap,
        topic,
        case,
        f"bench-latency-{case}-{uuid.uuid4().hex[:8]}",
        str(warm_up),
    ]
    worker = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert worker.stdout is not None
    ready = worker.stdout.readline()
    if ready.strip() != "ready":
        worker.kill()
        raise SystemExit(f"latency agent did not start: {ready}{worker.communicate()[1][-3000:]}")
    produced = subprocess.run(generator, capture_output=True, text=True, timeout=seconds + 120)
    if produced.returncode != 0:
        worker.kill()
        raise SystemExit(f"generator failed:\n{produced.stderr[-3000:]}")
    out, err = worker.communicate(timeout=300)
    if worker.returncode != 0:
        raise SystemExit(f"latency agent failed:\n{err[-3000:]}")
    return {**json.loads(produced.stdout), **json.loads(out.splitlines()[-1])}


def saturation(bootstrap: str, topic: str, case: str, n: int) -> float:
    """Events/s after the first event while the agent reads a backlog of ``n``."""
    out = subprocess.run(
        [
            sys.executable,
            str(HERE / "latency_agent.py"),
            bootstrap,
            topic,
            case,
            f"bench-saturation-{case}-{RUN}",
            "0",
            str(n),
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    if out.returncode != 0:
        raise SystemExit(f"saturation run failed:\n{out.stderr[-3000:]}")
    return float(json.loads(out.stdout.splitlines()[-1])["rate"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warm-up", type=float, default=3.0)
    parser.add_argument("--backlog", type=int, default=300_000)
    parser.add_argument("--words", type=int, default=10_000)
    parser.add_argument("--fixed-rate", type=float, default=10_000.0)
    parser.add_argument("--bootstrap")
    parser.add_argument(
        "--broker-warm-up",
        type=float,
        default=20.0,
        help="seconds of untimed load at the fixed rate before the first case (0: none)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="strm-bench-latency-") as workdir:
        bootstrap = args.bootstrap
        if bootstrap is None:
            bootstrap = start_broker(str(Path(workdir) / "broker"))["bootstrap"]
        try:
            measure(bootstrap, args, workdir)
        finally:
            if args.bootstrap is None:
                stop_broker(str(Path(workdir) / "broker"))


def measure(bootstrap: str, args: argparse.Namespace, workdir: str) -> None:
    python = framework_python(workdir, "generator-venv", "confluent-kafka") or sys.executable
    script = Path(workdir) / "generator.py"
    script.write_text(GENERATOR)
    backlog = f"bench-latency-backlog-{RUN}"
    asyncio.run(create_topics(bootstrap, [backlog], PARTITIONS))
    words = [f"word{i}" for i in range(args.words)]
    records = []
    for i in range(args.backlog):
        w = words[i % args.words]
        records.append((hash(w) % PARTITIONS, w.encode(), json.dumps({"w": w, "t": 0}).encode()))
    asyncio.run(produce(bootstrap, backlog, records))
    del records
    if args.broker_warm_up > 0:
        # A broker that has just started answers the first minutes of a fixed-rate load late
        # (its JIT compiling), which the first timed case would otherwise take for strm's lag.
        topic = f"bench-latency-warm-up-{RUN}"
        asyncio.run(create_topics(bootstrap, [topic], PARTITIONS))
        generator = [python, str(script), bootstrap, topic, str(args.fixed_rate)]
        warm_up = [*generator, str(args.broker_warm_up), str(args.words)]
        agent(bootstrap, topic, "stateless", args.broker_warm_up, 0.0, warm_up)
    print(
        f"{'case':22} {'offered':>9} {'achieved':>9} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'max ms':>8} {'events':>9}  load"
    )
    for case in ("stateless", "word-count"):
        saturated = saturation(bootstrap, backlog, case, args.backlog)
        print(f"{case}: saturation {saturated:,.0f} events/s (backlog of {args.backlog:,})")
        for rate in (args.fixed_rate, saturated / 2):
            topic = f"bench-latency-{case}-{int(rate)}-{RUN}"
            asyncio.run(create_topics(bootstrap, [topic], PARTITIONS))
            generator = [
                python,
                str(script),
                bootstrap,
                topic,
                str(rate),
                str(args.seconds + args.warm_up),
                str(args.words),
            ]
            got = agent(bootstrap, topic, case, args.seconds, args.warm_up, generator)
            print(
                f"{case:22} {rate:9,.0f} {got['rate']:9,.0f} {got['p50'] * 1000:8.1f} "
                f"{got['p99'] * 1000:8.1f} {got['max'] * 1000:8.1f} {got['events']:9,}  "
                f"{os.getloadavg()[0]:.1f}  ({got['generator']})",
                flush=True,
            )


if __name__ == "__main__":
    main()
