"""Starting an aiokafka client: a bounded retry while the brokers cannot be reached, an
immediate and explicit error when they refuse us, and aiokafka errors turned into strm's.

aiokafka's bootstrap logs why each broker failed and raises only "Unable to bootstrap"; when it
does, one connection per broker is opened again (``aiokafka.conn.create_conn``) to learn the
cause: a refused login or a TLS failure will not go away and is raised at once, while a broker
that is down or starting is tried again until ``broker_request_timeout`` has passed.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiokafka.conn import create_conn, get_ip_port_afi  # type: ignore[import-untyped]
from aiokafka.errors import (  # type: ignore[import-untyped]
    AuthenticationFailedError,
    AuthenticationMethodNotSupported,
    ClusterAuthorizationFailedError,
    IllegalSaslStateError,
    KafkaConnectionError,
    KafkaError,
    SaslAuthenticationFailed,
    UnsupportedSaslMechanismError,
)
from strm.kernel.transports import TransportError

from strm_transport_kafka.options import connection_options

logger = logging.getLogger("strm_transport_kafka")

#: Errors that retrying cannot cure: wrong credentials, a refused mechanism, a bad certificate.
PERMANENT: tuple[type[BaseException], ...] = (
    AuthenticationFailedError,
    AuthenticationMethodNotSupported,
    SaslAuthenticationFailed,
    UnsupportedSaslMechanismError,
    IllegalSaslStateError,
    ClusterAuthorizationFailedError,
    ssl.SSLCertVerificationError,
)
FIRST_BACKOFF = 0.2
MAX_BACKOFF = 5.0


class RedactSaslRequests(logging.Filter):
    """aiokafka's DEBUG log shows every request it sends, SASL PLAIN's username and password
    included: the bytes of ``SaslAuthenticateRequest`` are replaced before any handler sees
    them. Installed on the ``aiokafka.conn`` logger when this module is imported."""

    REDACTED = "SaslAuthenticateRequest(<redacted by strm>)"

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and any(_is_sasl_request(arg) for arg in args):
            record.args = tuple(self.REDACTED if _is_sasl_request(a) else a for a in args)
        return True


def _is_sasl_request(value: object) -> bool:
    return type(value).__name__.startswith("SaslAuthenticateRequest")


_REDACT = RedactSaslRequests()
logging.getLogger("aiokafka.conn").addFilter(_REDACT)


def describe(exc: BaseException) -> str:
    """An aiokafka error as one readable phrase: its class and message."""
    text = str(exc).strip()
    name = type(exc).__name__
    if not text or text == name:
        return name
    return f"{name}: {text}"


async def diagnose(servers: Sequence[str], options: dict[str, Any]) -> BaseException | None:
    """Why the bootstrap servers cannot be used: the error of the first that fails, or
    ``None`` when a connection can be opened now."""
    conn_options = connection_options(options)
    first: BaseException | None = None
    for server in servers:
        host, port, _ = get_ip_port_afi(server)
        try:
            conn = await create_conn(host, port, **conn_options)
        except (TimeoutError, OSError, KafkaError) as exc:
            if isinstance(exc, PERMANENT):
                return exc
            first = first or exc
        else:
            conn.close()
            return None
    return first


async def start_client(
    start: Callable[[], Awaitable[None]],
    close: Callable[[], Awaitable[None]],
    *,
    servers: Sequence[str],
    options: dict[str, Any],
    timeout: float,
    what: str,
) -> None:
    """Run ``start()`` (an aiokafka client's), retrying for up to ``timeout`` seconds while no
    broker can be reached; on failure ``close()`` the client and raise
    :class:`strm.kernel.transports.TransportError` naming the brokers and the cause."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    backoff = FIRST_BACKOFF
    shown = ", ".join(servers)
    attempts = 0
    while True:
        attempts += 1
        try:
            await start()
            return
        except KafkaConnectionError as exc:
            cause: BaseException = await diagnose(servers, options) or exc
        except BaseException as exc:
            await _close_quietly(close)
            if isinstance(exc, KafkaError):
                raise TransportError(
                    f"cannot start the {what} on {shown}: {describe(exc)}"
                ) from exc
            raise
        if isinstance(cause, PERMANENT):
            await _close_quietly(close)
            raise TransportError(
                f"the Kafka broker(s) {shown} refused the {what}: {describe(cause)}; check "
                "broker_credentials (and ssl_context)"
            ) from cause
        remaining = deadline - loop.time()
        if remaining <= 0:
            await _close_quietly(close)
            raise TransportError(
                f"cannot reach the Kafka broker(s) {shown} for the {what}: {describe(cause)} "
                f"({attempts} attempts in {timeout:g} s, broker_request_timeout)"
            ) from cause
        logger.warning(
            "cannot reach the Kafka broker(s) %s for the %s (%s); trying again for %.1f s",
            shown,
            what,
            describe(cause),
            remaining,
        )
        await asyncio.sleep(min(backoff, remaining))
        backoff = min(backoff * 2, MAX_BACKOFF)


async def _close_quietly(close: Callable[[], Awaitable[None]]) -> None:
    try:
        await close()
    except Exception:
        logger.debug("closing a client that failed to start raised", exc_info=True)


__all__ = ["PERMANENT", "RedactSaslRequests", "describe", "diagnose", "start_client"]
