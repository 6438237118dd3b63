"""Broker credentials: the values of the ``broker_credentials`` setting.

Secrets are kept out of ``repr()`` so they never reach logs or tracebacks.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from typing import Any


class Credentials:
    """Base class of the credential kinds a transport plugin understands."""


@dataclass(frozen=True)
class SASLCredentials(Credentials):
    """SASL username and password (mechanisms PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)."""

    username: str
    password: str = field(repr=False)
    mechanism: str = "PLAIN"
    ssl_context: ssl.SSLContext | None = None


@dataclass(frozen=True)
class GSSAPICredentials(Credentials):
    """Kerberos (SASL GSSAPI)."""

    kerberos_service_name: str = "kafka"
    kerberos_domain_name: str | None = None
    ssl_context: ssl.SSLContext | None = None


@dataclass(frozen=True)
class OAuthCredentials(Credentials):
    """SASL OAUTHBEARER with a token provider object (it has an async ``token()`` method)."""

    oauth_cb: Any = field(repr=False)
    ssl_context: ssl.SSLContext | None = None


@dataclass(frozen=True)
class SSLCredentials(Credentials):
    """TLS with an explicit context."""

    context: ssl.SSLContext
