"""The server's error tree, each error carrying its HTTP status and a stable number.

Booths and scripts branch on ``code``, never on the message, so the numbers below
never change meaning; new errors get new numbers. Two branches matter for whoever
reads the log: ``ClientError`` is the caller's fault (bad token, bad record),
``StorageError`` is the database's (down, full, a constraint we did not expect).
"""

from __future__ import annotations

from typing import Any


class ServerError(Exception):
    """Anything the server answers with an error; our bug if not a subclass."""

    status: int = 500
    code: int = 999

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        error.update(self.details)
        return {"error": error}


class ClientError(ServerError):
    """The request is wrong; retrying it unchanged will fail the same way."""

    status = 400
    code = 100


class MissingCredentials(ClientError):
    status = 401
    code = 101


class InvalidCredentials(ClientError):
    status = 401
    code = 102


class ForeignRecord(ClientError):
    """A booth pushed a record that another station made."""

    status = 403
    code = 103


class InvalidBody(ClientError):
    """The request body is not the expected JSON shape."""

    status = 422
    code = 104


class InvalidRecord(ClientError):
    """One record of a batch is not a valid record; the batch is refused."""

    status = 422
    code = 105


class BatchTooLarge(ClientError):
    status = 413
    code = 106


class KeyConflict(ClientError):
    """A booth tried to replace its registered public key."""

    status = 409
    code = 107


class MalformedToken(ClientError):
    """A ticket token that cannot even be read (not merely a bad signature)."""

    status = 400
    code = 108


class NotFound(ClientError):
    status = 404
    code = 109


class InvalidParameter(ClientError):
    """A query parameter is missing or out of range."""

    status = 400
    code = 110


class MethodNotAllowed(ClientError):
    status = 405
    code = 111


class StorageError(ServerError):
    """The database failed in a way we did not plan for."""

    status = 500
    code = 200


class StorageUnavailable(StorageError):
    """The database cannot be reached or is busy: the world's fault, retry later."""

    status = 503
    code = 201


class StorageConflict(StorageError):
    """A constraint refused the write (e.g. two requests racing for one plate)."""

    status = 409
    code = 202


class ConfigurationError(ServerError):
    """The server was started with settings it cannot use."""

    code = 300


class AlreadyExists(ClientError):
    """A station id or plate that is already registered."""

    status = 409
    code = 112


class UnreadableBody(ClientError):
    """The request body is not UTF-8 JSON at all, or is nested beyond reason."""

    status = 400
    code = 113


class RequestTooLarge(ClientError):
    """The request body is over the size limit of its route; refused unread."""

    status = 413
    code = 114
