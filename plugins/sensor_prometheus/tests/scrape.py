"""Reading ``/metrics`` in the tests: fetch it, parse it with prometheus_client's own parser, and
poll it with a deadline until a condition holds."""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

#: Bound on one HTTP exchange.
HTTP_TIMEOUT = 10.0


@dataclass(frozen=True)
class Scrape:
    """One scrape: every sample as (name, labels) -> value, and the raw text for messages."""

    samples: dict[tuple[str, frozenset[tuple[str, str]]], float]
    text: str
    content_type: str

    def total(self, name: str, **labels: str) -> float:
        """The sum of the samples of ``name`` whose labels include ``labels``."""
        wanted = set(labels.items())
        return sum(v for (n, ls), v in self.samples.items() if n == name and wanted <= ls)

    def series(self, name: str) -> dict[frozenset[tuple[str, str]], float]:
        return {ls: v for (n, ls), v in self.samples.items() if n == name}


def scrape(url: str) -> Scrape:
    with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT) as response:
        text = response.read().decode("utf-8")
        content_type = response.headers.get("Content-Type", "")
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[sample.name, frozenset(sample.labels.items())] = sample.value
    return Scrape(samples, text, content_type)


def poll(url: str, condition: Callable[[Scrape], bool], timeout: float, what: str) -> Scrape:
    """Scrape every 0.1 s until ``condition`` holds; fail after ``timeout`` seconds, showing
    the last scrape."""
    deadline = time.monotonic() + timeout
    last = scrape(url)
    while not condition(last):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:g} s; last scrape:\n{last.text}")
        time.sleep(0.1)
        last = scrape(url)
    return last
