"""Import every model module so ``Base.metadata`` describes the whole schema (for Alembic).

Plugins' models are found through their entry points, so an installed plugin's tables are always
migrated even when the plugin is switched off in ``PASSPORT_PLUGINS``.
"""
from __future__ import annotations

import importlib
from importlib.metadata import entry_points

from passport.plugins import ENTRY_POINT_GROUP


def import_all_models() -> None:
    importlib.import_module("passport.core.models")
    importlib.import_module("passport.audit")
    importlib.import_module("passport.reminders")
    importlib.import_module("passport.mail")
    importlib.import_module("passport.jobs")
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        package = ep.value.split(":", 1)[0]
        try:
            importlib.import_module(package + ".models")
        except ModuleNotFoundError as exc:
            if exc.name != package + ".models":
                raise
