"""Kill storms on a real Kafka broker, larger than the CI's (tests/reliability/test_kill_storm.py).

For every combination of worker count, guarantee and group_by asked for, runs one case of the
harness in tests/reliability/killstorm.py: N words produced up front to 8 partitions, a word
count on RocksDB in 1 or 2 worker processes, SIGKILLed ``--kills`` times at seeded random
moments and restarted on their data directories, then the table read back from its changelog
and compared with the input. Prints one line per case; asserts nothing (the test does).

Starts its own broker with ``scripts/kafka`` in a temporary directory (stopped at the end, and
by its owner-pid watchdog if this process dies), or uses ``--bootstrap``. Usage::

    uv run python bench/kill_storm.py --events 300000 --kills 10 --workers 1 2 \\
        --group-by both --guarantee both
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the harness lives with the tests

from strm.testing.kafka import start_broker  # noqa: E402

from tests.reliability.killstorm import Case, Outcome, run_case  # noqa: E402

GUARANTEES = {
    "at_least_once": ["at_least_once"],
    "exactly_once": ["exactly_once"],
    "both": ["at_least_once", "exactly_once"],
}
ROUTES = {"without": [False], "with": [True], "both": [False, True]}


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--words", type=int, default=1000, help="distinct words")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], choices=[1, 2])
    parser.add_argument("--group-by", choices=sorted(ROUTES), default="both")
    parser.add_argument("--guarantee", choices=sorted(GUARANTEES), default="both")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--bootstrap", help="HOST:PORT of a running broker (else one is started)")
    parser.add_argument("--keep", action="store_true", help="keep the workers' logs and data")
    return parser.parse_args()


def cases(args: argparse.Namespace) -> list[Case]:
    combinations = itertools.product(
        args.workers, GUARANTEES[args.guarantee], ROUTES[args.group_by]
    )
    return [
        Case(workers, guarantee, group_by, args.events, args.kills, args.words, args.seed)
        for workers, guarantee, group_by in combinations
    ]


def storm(bootstrap: str, args: argparse.Namespace, workdir: Path) -> list[Outcome]:
    outcomes = []
    for case in cases(args):
        try:
            outcome = run_case(bootstrap, case, workdir / case.name)
        except AssertionError as exc:  # a worker that died by itself, a job that never ended
            print(f"{case.name:<32} did not complete: {exc}", flush=True)
            continue
        print(outcome.line(), flush=True)
        outcomes.append(outcome)
    return outcomes


def main() -> None:
    args = arguments()
    workdir = Path(tempfile.mkdtemp(prefix="kill-storm-"))
    started = time.monotonic()
    broker = None
    try:
        if args.bootstrap:
            bootstrap = args.bootstrap
        else:
            broker = start_broker(workdir / "kafka")
            bootstrap = broker.broker.bootstrap
        print(f"kill storm: {args.events} events, {args.kills} kills per case, broker {bootstrap}")
        outcomes = storm(bootstrap, args, workdir)
    finally:
        if broker is not None:
            broker.stop()
        if args.keep:
            print(f"logs and data in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    wrong = [o.case.name for o in outcomes if o.missing or o.doubled]
    print(f"{len(outcomes)} cases in {time.monotonic() - started:.0f} s; counts off in: {wrong}")


if __name__ == "__main__":
    main()
