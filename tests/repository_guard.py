"""The suite stands on the repository's own files: a test that opens a file outside it fails.

A clone must pass its tests with nothing beside it, so a test may not read a sibling folder of
the checkout, the author's home or any other place only some machines have. An audit hook sees
every ``open`` of the pytest process; what a test opens outside the repository fails that test,
and what collection opens (a module reading a file as it is imported) fails the session. Places
every machine has are allowed: the interpreter and its packages, the temporary directory, system
directories, and the caches of the tools the suite drives (Kafka's jars, Maven, uv).

The same hook sees every ``bind`` of a socket: tests use loopback addresses only, so a test
whose code binds a wildcard or outside address (a web server left at ``web_bind='0.0.0.0'``)
fails the same way.

Subprocesses are not audited; ``test_self_contained.py`` checks the scripts' sources instead.
"""

from __future__ import annotations

import os
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]

#: System places a test may read on any machine (devices, locale and time zone data, TLS
#: certificates, the resolver's files, processes' status).
SYSTEM_ROOTS = ("/dev", "/proc", "/sys", "/etc", "/usr", "/lib", "/lib64", "/bin", "/run")

#: Caches under the home directory that the project's own files fill.
HOME_CACHES = (".cache", ".m2", ".local")


def allowed_roots() -> tuple[str, ...]:
    """Directories outside the repository whose files a test may open."""
    home = Path.home()
    roots = {
        str(REPOSITORY),
        tempfile.gettempdir(),
        sys.prefix,
        sys.base_prefix,
        sys.exec_prefix,
        *sysconfig.get_paths().values(),
        *SYSTEM_ROOTS,
        *(str(home / cache) for cache in HOME_CACHES),
    }
    for variable in ("STRM_KAFKA_CACHE", "STRM_KAFKA_DIR", "UV_CACHE_DIR", "XDG_CACHE_HOME"):
        if os.environ.get(variable):
            roots.add(os.environ[variable])
    return tuple(sorted(os.path.abspath(root) for root in roots))


def is_outside(path: str, roots: tuple[str, ...]) -> bool:
    """Whether ``path`` (absolute) lies in none of ``roots``."""
    return not any(path == root or path.startswith(root + os.sep) for root in roots)


class OpenAudit:
    """Collects the files opened outside the allowed roots, by the test that opened them."""

    def __init__(self, roots: tuple[str, ...]) -> None:
        self.roots = roots
        self.current: str = "collection"
        self.found: dict[str, list[str]] = {}

    def hook(self, event: str, args: tuple[object, ...]) -> None:
        if event == "socket.bind" and len(args) == 2:
            self._bound(args[1])
            return
        if event != "open" or not args:
            return
        target = args[0]
        if isinstance(target, int) or target is None:
            return
        try:
            path = os.path.abspath(os.fsdecode(target))  # type: ignore[arg-type]
        except (TypeError, ValueError, OSError):
            return
        if is_outside(path, self.roots):
            self.found.setdefault(self.current, []).append(path)

    def _bound(self, address: object) -> None:
        if not isinstance(address, tuple) or not address or not isinstance(address[0], str):
            return  # a unix socket path, or an address family without hosts
        host = address[0]
        if not is_loopback(host):
            self.found.setdefault(self.current, []).append(f"bind to {host or '<any>'}")

    def take(self, nodeid: str) -> list[str]:
        return self.found.pop(nodeid, [])


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and localhost; the wildcard ('', 0.0.0.0, ::) is not."""
    return host == "localhost" or host == "::1" or host.startswith("127.")


_AUDIT = OpenAudit(allowed_roots())
sys.addaudithook(_AUDIT.hook)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    _AUDIT.current = item.nodeid
    try:
        return (yield)
    finally:
        _AUDIT.current = "between tests"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Iterator[pytest.TestReport]:
    report: pytest.TestReport = yield
    if call.when == "teardown":
        opened = _AUDIT.take(item.nodeid)
        if opened:
            report.outcome = "failed"
            report.longrepr = _describe(f"{item.nodeid} opened", opened)
    return report


def pytest_sessionfinish(session: pytest.Session) -> None:
    leftovers = {where: paths for where, paths in _AUDIT.found.items() if paths}
    if not leftovers:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    for where, paths in leftovers.items():
        message = _describe(f"{where} opened", paths)
        if reporter is not None:
            reporter.write_line(message, red=True)
        else:
            print(message, file=sys.stderr)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _describe(what: str, paths: list[str]) -> str:
    shown = sorted(set(paths))
    listed = "\n".join(f"  {path}" for path in shown[:10])
    more = f"\n  ... and {len(shown) - 10} more" if len(shown) > 10 else ""
    return (
        f"{what} files outside the repository {REPOSITORY} or bound a socket outside loopback "
        f"(tests stand on the repository's own files and use loopback addresses only; see "
        f"tests/repository_guard.py):\n{listed}{more}"
    )
