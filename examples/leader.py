"""A timer that runs on one worker of the group only: the leader.

    uv run strm -A examples.leader worker    # one worker: it is the leader, the timer runs

With Kafka, start the same worker several times and only one of them prints. The ``memory://``
broker lives inside one process, so to watch the election without Kafka run

    uv run python -m examples.leader

which starts two apps of the group on one broker: only the leader's timer prints, and when the
leader stops, the other app becomes the leader and its timer takes over.
"""

import asyncio

import strm

BROKER = "memory://leader-example"


def make_app(name: str) -> strm.App:
    app = strm.App("leader-example", broker=BROKER)

    @app.timer(0.5, on_leader=True)
    async def only_on_the_leader() -> None:
        print(f"{name}: I am the leader, so my timer runs", flush=True)

    return app


app = make_app("worker")


async def two_apps() -> None:
    first, second = make_app("first"), make_app("second")
    await first.start()
    await second.start()
    print(f"leader: first {first.is_leader()}, second {second.is_leader()}", flush=True)
    await asyncio.sleep(1.6)
    await first.stop()
    print("first stopped", flush=True)
    await asyncio.sleep(1.6)
    await second.stop()


if __name__ == "__main__":
    asyncio.run(two_apps())
