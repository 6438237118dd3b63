"""Multi-process mode: several worker processes, one set of figures.

prometheus_client keeps each process's values in files of a directory named by
``PROMETHEUS_MULTIPROC_DIR`` (one file per process and kind of metric) and sums them when
scraped. It must be named before prometheus_client makes its first metric, so it travels in the
environment: ``strm worker --processes N`` names it for its children (``strm_worker_processes``),
and a process manager of the operator's own (supervisord, systemd templates) may set it too.

The directory ``strm worker --processes N`` picks is ``<datadir>/prometheus-multiproc``, beside
the children's own data directories, unless ``PROMETHEUS_MULTIPROC_DIR`` is already set. Either
way the parent deletes the ``*.db`` files in it before the children start, since figures a
previous run left there would be added to this run's.
"""

from __future__ import annotations

import os
from pathlib import Path

from strm.kernel.errors import StrmError

#: The variable prometheus_client reads.
ENV = "PROMETHEUS_MULTIPROC_DIR"
#: The directory's name under the app's datadir when the operator names none.
DIRNAME = "prometheus-multiproc"


def enabled() -> bool:
    """Whether this process writes its figures to the shared directory."""
    return bool(os.environ.get(ENV))


def directory() -> Path:
    return Path(os.environ[ENV])


def ensure_directory() -> Path:
    """The shared directory, made if missing: prometheus_client writes there as soon as a
    metric is made, and an unusable one is a configuration error, not a traceback."""
    path = directory()
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".strm-probe-{os.getpid()}"
        probe.touch()
        probe.unlink()
    except OSError as exc:
        raise StrmError(
            f"strm-sensor-prometheus: {ENV}={str(path)!r} is not a writable directory "
            f"({exc.strerror}); point it to one, or unset it for a single process"
        ) from exc
    return path


def prepare(environ: dict[str, str], datadir: str) -> Path:
    """Name the directory in the children's ``environ`` and empty it of earlier figures."""
    path = Path(environ.get(ENV) or os.path.join(datadir, DIRNAME)).absolute()
    try:
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()
    except OSError as exc:
        raise StrmError(
            f"strm-sensor-prometheus: cannot prepare the multi-process directory {path} "
            f"({exc.strerror}); set {ENV} to a writable directory"
        ) from exc
    environ[ENV] = str(path)
    return path


__all__ = ["DIRNAME", "ENV", "directory", "enabled", "ensure_directory", "prepare"]
