"""Request/reply with ``ask``: a task asks an agent to add numbers and prints the answers.

uv run strm -A examples.rpc worker
"""

from typing import Any

import strm

app = strm.App("rpc")


class Add(strm.Record):
    a: int
    b: int


@app.agent(value_type=Add)
async def adder(stream: Any) -> Any:
    async for request in stream:
        yield request.a + request.b


@app.task
async def ask_some() -> None:
    for a, b in [(1, 2), (20, 22), (-5, 5)]:
        answer = await adder.ask(Add(a=a, b=b), timeout=10)
        print(f"{a} + {b} = {answer}")
    total = await adder.join([Add(a=i, b=i) for i in range(5)])
    print(f"doubles of 0..4: {total}")
