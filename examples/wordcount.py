"""Word count: sentences in, running counts out.

    uv run strm -A examples.wordcount worker

A task feeds a few sentences into the ``sentences`` topic; one agent splits them into words and
sends each word keyed by itself to the ``words`` topic, so every occurrence of a word lands in
the same partition; a second agent counts them, and a timer prints the counts every second.
"""

from collections import Counter
from typing import Any

import strm

app = strm.App("wordcount", topic_partitions=4)
sentences = app.topic("sentences", value_type=str)
words = app.topic("words", key_type=str, value_type=str)

TEXT = [
    "the quick brown fox jumps over the lazy dog",
    "the dog sleeps and the fox runs",
    "a quick brown dog and a lazy fox",
]

counts: Counter[str] = Counter()


@app.agent(sentences)
async def split(stream: Any) -> None:
    async for sentence in stream:
        for word in sentence.split():
            await words.send(key=word, value=word)


@app.agent(words)
async def count(stream: Any) -> None:
    async for word in stream:
        counts[word] += 1


@app.task
async def feed() -> None:
    for sentence in TEXT:
        await sentences.send(value=sentence)


@app.timer(1.0)
async def report() -> None:
    top = ", ".join(f"{word}={n}" for word, n in counts.most_common())
    print(f"{sum(counts.values())} words counted: {top}")
