"""Errors that services raise and the edges (views, API, CLI) turn into messages."""
from __future__ import annotations


class ServiceError(Exception):
    """Base class: ``message`` is plain English, safe to show to the user."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, fields: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class ValidationError(ServiceError):
    """Input breaks a rule. ``fields`` maps field names to messages."""

    code = "validation_error"


class PermissionDenied(ServiceError):
    status = 403
    code = "forbidden"


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class Conflict(ServiceError):
    status = 409
    code = "conflict"
