"""A task queue: a timer enqueues jobs, an agent with four instances works through them.

uv run strm -A examples.taskqueue worker
"""

import asyncio
import itertools
from typing import Any

import strm

app = strm.App("taskqueue")


class Job(strm.Record):
    id: int
    seconds: float


jobs = app.topic("jobs", value_type=Job)
ids = itertools.count(1)


@app.agent(jobs, concurrency=4)
async def work(stream: Any) -> None:
    async for job in stream:
        await asyncio.sleep(job.seconds)  # stands for I/O: a request, a query
        print(f"job {job.id} done after {job.seconds:.1f} s")


@app.timer(0.5)
async def enqueue() -> None:
    for _ in range(4):
        job_id = next(ids)
        await jobs.send(value=Job(id=job_id, seconds=0.2 + (job_id % 3) / 10))
