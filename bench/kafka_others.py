"""faust-streaming and Quix Streams for ``bench/kafka.py``: each installed by ``uv`` into a
throwaway virtual environment of the benchmark's work directory (never a dependency of strm)
and run in a subprocess of that environment, on the same broker and topics as strm.

Each script writes ``[started, first, ended, n, rss_kib]`` to a result file (both frameworks
take over stdout and logging): ``time.perf_counter()`` values (``CLOCK_MONOTONIC``, comparable
with the parent's) and the process's peak RSS.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

WAIT = 600.0

# VmHWM: the peak RSS since exec (ru_maxrss would carry the parent's over fork and exec)
PEAK_RSS = """def peak_rss_kib():
    with open("/proc/self/status") as status:
        return next(int(row.split()[1]) for row in status if row.startswith("VmHWM:"))
"""

FAUST_AGENT = textwrap.dedent("""
    import json, os, sys, time
    import faust
    PEAK_RSS

    bootstrap, topic_name, n, group, datadir, result_path, partitions, case = sys.argv[1:9]
    n = int(n)
    sys.argv[1:] = sys.argv[9:]  # what faust's command line reads: "worker"
    app = faust.App(
        group, broker=f"kafka://{bootstrap}", store="memory://", web_enabled=False,
        topic_partitions=int(partitions), consumer_auto_offset_reset="earliest",
        datadir=datadir,
    )
    topic = app.topic(topic_name, key_serializer="raw", value_serializer="json")
    # ``word-count``: the value is the word; faust writes a changelog record per update.
    counts = app.Table("counts", default=int) if case == "word-count" else None
    count = 0
    started = first = None

    @app.agent(topic)
    async def consume(stream):
        global count
        global first
        async for value in stream:
            if counts is not None:
                counts[value] += 1
            count += 1
            if count == 1:
                first = time.perf_counter()
            if count == n:
                rss = peak_rss_kib()
                with open(result_path, "w") as result:
                    result.write(json.dumps([started, first, time.perf_counter(), n, rss]))
                os._exit(0)

    if __name__ == "__main__":
        started = time.perf_counter()
        faust.Worker(app, loglevel="WARNING", quiet=True).execute_from_commandline()
""").replace("PEAK_RSS\n", PEAK_RSS)

# Quix Streams 3.x: a StreamingDataFrame per case. ``stateless`` counts the JSON-decoded values;
# ``word-count`` keeps a per-key count in RocksDB state (Quix's state is keyed by the message
# key, which here is the word); ``recovery`` is a word count on a fresh state directory whose
# changelog topic already holds the table, timed until the one record that follows it is seen.
QUIX_APP = textwrap.dedent("""
    import json, os, sys, time
    from quixstreams import Application
    PEAK_RSS

    (case, bootstrap, topic_name, n, group, state_dir, result_path, guarantee,
     commit_interval) = sys.argv[1:10]
    n = int(n)
    app = Application(
        broker_address=bootstrap, consumer_group=group, auto_offset_reset="earliest",
        state_dir=state_dir, processing_guarantee=guarantee, loglevel="WARNING",
        commit_interval=float(commit_interval),
    )
    topic = app.topic(topic_name, key_deserializer="str", value_deserializer="json")
    sdf = app.dataframe(topic)
    count = 0
    first = None

    def seen():
        global count, first
        count += 1
        if count == 1:
            first = time.perf_counter()
        if count == n:
            write(time.perf_counter())
            if case == "stateless":
                os._exit(0)
            app.stop()  # commits and flushes the changelog, outside the clock

    def write(ended):
        rss = peak_rss_kib()
        with open(result_path, "w") as result:
            result.write(json.dumps([started, first, ended, n, rss]))

    def stateless(value):
        seen()

    def word_count(value, state):
        state.set("count", state.get("count", 0) + 1)
        seen()

    if case == "stateless":
        sdf = sdf.update(stateless)
    else:
        sdf = sdf.update(word_count, stateful=True)
    started = time.perf_counter()
    app.run(sdf)
""").replace("PEAK_RSS\n", PEAK_RSS)


def framework_python(workdir: str, name: str, requirement: str) -> str | None:
    """A Python with ``requirement`` installed in a throwaway venv ``workdir/name``, or None."""
    uv = shutil.which("uv")
    if uv is None:
        return None
    venv = Path(workdir) / name
    python = venv / "bin" / "python"
    if python.exists():
        return str(python)
    try:
        subprocess.run(
            [uv, "venv", "-q", "--python", "3.11", str(venv)],
            check=True,
            capture_output=True,
            timeout=300,
        )
        subprocess.run(
            [uv, "pip", "install", "-q", "--python", str(python), requirement],
            check=True,
            capture_output=True,
            timeout=600,
        )
    except (subprocess.SubprocessError, OSError) as error:
        print(f"could not install {requirement}: {error}", file=sys.stderr)
        return None
    return str(python)


def version(python: str, distribution: str) -> str:
    out = subprocess.run(
        [python, "-c", f"import importlib.metadata as m; print(m.version({distribution!r}))"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return out.stdout.strip() or "?"


def run_script(
    python: str, workdir: str, name: str, source: str, arguments: list[str]
) -> dict[str, Any] | None:
    """Run ``source`` with ``arguments`` (the result path is substituted for ``{result}``);
    return the figures with ``spawned``, the parent's clock at the spawn, or None."""
    script = Path(workdir) / f"{name}.py"
    script.write_text(source)
    result = Path(workdir) / f"{name}-result.json"
    result.unlink(missing_ok=True)
    argv = [python, str(script), *(str(result) if a == "{result}" else a for a in arguments)]
    spawned = time.perf_counter()
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=WAIT, cwd=workdir)
    except subprocess.TimeoutExpired:
        print(f"{name}: no result within {WAIT:.0f} s", file=sys.stderr)
        return None
    if result.exists():
        started, first, ended, n, rss = json.loads(result.read_text())
        return {
            "spawned": spawned,
            "started": started,
            "first": first,
            "ended": ended,
            "n": n,
            "rss_kib": rss,
        }
    print(f"{name} failed (exit {out.returncode}):\n{out.stderr[-3000:]}", file=sys.stderr)
    return None
