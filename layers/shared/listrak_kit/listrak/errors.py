"""Listrak's answers as typed errors, so callers decide on retry, replay or refusal by type."""

from __future__ import annotations


class ListrakError(Exception):
    """Base class. `code` and `detail` carry Listrak's own error code and message when it gave them."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None, detail: str = ""):
        self.status = status
        self.code = code
        self.detail = detail
        super().__init__(message)


class ListrakRejected(ListrakError):
    """A 4xx envelope `{status, error, message}`: the request was refused and will be refused again."""


class ListrakNotFound(ListrakRejected):
    """404: unknown list, message or resendKey (or, on a Data route, a body over Listrak's size limit)."""


class ListrakUnauthorized(ListrakError):
    """401 on an API call: the token is missing, expired or revoked."""


class ListrakInvalidCredentials(ListrakError):
    """The token endpoint refused the client ID and secret; fix the credentials secret."""


class ListrakUnavailable(ListrakError):
    """Listrak could not be reached, or kept answering 429/5xx, within the retry budget. Nothing was delivered."""


class ListrakOutcomeUnknown(ListrakError):
    """The request went out but no answer came back (read timeout, dropped connection).

    For a send this means the email may have gone: it must not be repeated blindly.
    """
