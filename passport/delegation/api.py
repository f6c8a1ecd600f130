"""Delegation JSON API."""
from passport.delegation import api_bp  # noqa: F401
