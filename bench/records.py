"""Microseconds per small record: ``Record.dumps`` and ``Record.loads`` against the field.

A four-field record (two ints, a string, a float), encoded to JSON and back, is timed with
``timeit`` (best of five repetitions); where pydantic or msgspec are importable, the same model
in them is timed in the same run. Neither is a dependency of strm: the line reads "not
installed" otherwise. Usage::

    uv run python bench/records.py [--number 100000]
"""

from __future__ import annotations

import argparse
import timeit
from collections.abc import Callable
from typing import Any

import strm


class Point(strm.Record, serializer="json"):
    x: int
    y: int
    name: str
    score: float


def best(fn: Callable[[], Any], number: int) -> float:
    """Microseconds per call, best of five repetitions."""
    return min(timeit.repeat(fn, number=number, repeat=5)) / number * 1e6


def strm_figures(number: int) -> tuple[float, float]:
    point = Point(1, 2, "abc", 1.5)
    data = point.dumps()
    assert Point.loads(data) == point
    return best(point.dumps, number), best(lambda: Point.loads(data), number)


def pydantic_figures(number: int) -> tuple[float, float] | None:
    try:
        import pydantic
    except ImportError:
        return None

    class PPoint(pydantic.BaseModel):
        x: int
        y: int
        name: str
        score: float

    point = PPoint(x=1, y=2, name="abc", score=1.5)
    data = point.model_dump_json().encode()
    return (
        best(point.model_dump_json, number),
        best(lambda: PPoint.model_validate_json(data), number),
    )


def msgspec_figures(number: int) -> tuple[float, float] | None:
    try:
        import msgspec
    except ImportError:
        return None

    class MPoint(msgspec.Struct):
        x: int
        y: int
        name: str
        score: float

    encoder, decoder = msgspec.json.Encoder(), msgspec.json.Decoder(MPoint)
    point = MPoint(1, 2, "abc", 1.5)
    data = encoder.encode(point)
    return best(lambda: encoder.encode(point), number), best(lambda: decoder.decode(data), number)


def main(number: int) -> None:
    print(f"µs per record, four fields, JSON, best of 5 x {number:,}")
    print(f"{'library':24} {'dumps':>8} {'loads':>8}")
    rows: list[tuple[str, tuple[float, float] | None]] = [
        ("strm.Record", strm_figures(number)),
        ("pydantic BaseModel", pydantic_figures(number)),
        ("msgspec Struct", msgspec_figures(number)),
    ]
    for name, figures in rows:
        if figures is None:
            print(f"{name:24} not installed")
        else:
            print(f"{name:24} {figures[0]:8.2f} {figures[1]:8.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--number", type=int, default=100_000)
    main(parser.parse_args().number)
