"""HTTP errors a view raises to answer with a status, and the web server's start-up error.

A view raises one (``raise self.NotFound('no such order')``) instead of building the error
response itself; the server answers with the status and a JSON body ``{"error": detail, ...}``.
The names and status codes are Faust's, so views written for Faust raise the same classes.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from strm.kernel.errors import StrmError


class WebServerError(StrmError):
    """The web server cannot start: no driver, a port in use, a socket path that is taken.

    A :class:`strm.kernel.errors.StrmError`, so ``strm worker`` shows it as one line and exits
    with 2.
    """


class WebError(StrmError):
    """An HTTP error with a status ``code``, a ``detail`` for people and extra JSON fields."""

    code: int = HTTPStatus.INTERNAL_SERVER_ERROR
    detail: str = "Internal server error."

    def __init__(self, detail: str | None = None, *, code: int | None = None, **extra: Any):
        if detail:
            self.detail = detail
        if code:
            self.code = code
        self.extra_context: dict[str, Any] = extra
        super().__init__(self.detail)


class ServerError(WebError):
    code = HTTPStatus.INTERNAL_SERVER_ERROR
    detail = "Internal server error."


class ValidationError(WebError):
    code = HTTPStatus.BAD_REQUEST
    detail = "Invalid input."


class ParseError(WebError):
    code = HTTPStatus.BAD_REQUEST
    detail = "Malformed request."


class AuthenticationFailed(WebError):
    code = HTTPStatus.UNAUTHORIZED
    detail = "Incorrect authentication credentials."


class NotAuthenticated(WebError):
    code = HTTPStatus.UNAUTHORIZED
    detail = "Authentication credentials were not provided."


class PermissionDenied(WebError):
    code = HTTPStatus.FORBIDDEN
    detail = "You do not have permission to perform this action."


class NotFound(WebError):
    code = HTTPStatus.NOT_FOUND
    detail = "Not found."


class MethodNotAllowed(WebError):
    code = HTTPStatus.METHOD_NOT_ALLOWED
    detail = "Method not allowed."


class NotAcceptable(WebError):
    code = HTTPStatus.NOT_ACCEPTABLE
    detail = "Could not satisfy the request Accept header."


class PayloadTooLarge(WebError):
    code = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    detail = "Request body too large."


class UnsupportedMediaType(WebError):
    code = HTTPStatus.UNSUPPORTED_MEDIA_TYPE
    detail = "Unsupported media type in request."


class Throttled(WebError):
    code = HTTPStatus.TOO_MANY_REQUESTS
    detail = "Request was throttled."


__all__ = [
    "AuthenticationFailed",
    "MethodNotAllowed",
    "NotAcceptable",
    "NotAuthenticated",
    "NotFound",
    "ParseError",
    "PayloadTooLarge",
    "PermissionDenied",
    "ServerError",
    "Throttled",
    "UnsupportedMediaType",
    "ValidationError",
    "WebError",
    "WebServerError",
]
