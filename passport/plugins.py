"""The plugin contract and the entry-point loader.

A plugin is an object with ``name``, ``requires`` (names of plugins it needs), ``blueprint`` (a Flask
blueprint or None), ``init_app(app)`` and optionally ``cli`` (a click group named like the plugin) and
``api_blueprint`` (mounted under ``/api/v1/<name>``).
Plugins are found through the ``passport.plugins`` entry-point group; the ``PLUGINS`` setting chooses
which of the installed ones load (default: all of them).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Callable, Iterable

import click
from flask import Blueprint, Flask

ENTRY_POINT_GROUP = "passport.plugins"
EXTENSION_KEY = "passport.plugins"


class PluginError(RuntimeError):
    """Start-up cannot continue because of the plugin set; the message names the culprit."""


@dataclass
class Plugin:
    """A feature plugin. Subclass it or build one with keyword arguments."""

    name: str
    requires: tuple[str, ...] = ()
    blueprint: Blueprint | None = None
    api_blueprint: Blueprint | None = None
    cli: click.Group | None = None
    setup: Callable[[Flask], None] | None = field(default=None, repr=False)
    #: optional ``demo(db, ctx)``: add this plugin's demo data (see passport.demo.DemoContext)
    demo: Callable | None = field(default=None, repr=False)
    description: str = ""

    def init_app(self, app: Flask) -> None:
        """Register the blueprint and run the plugin's own set-up (signal handlers, template globals)."""
        for bp in (self.blueprint, self.api_blueprint):
            if bp is not None:
                app.register_blueprint(bp)
        if self.setup is not None:
            self.setup(app)


def installed_plugins() -> dict[str, object]:
    """Load every installed plugin's entry point. Two entry points with one name is an error."""
    found: dict[str, object] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in found:
            raise PluginError(f"Two installed plugins are both called {ep.name!r}; uninstall one of them.")
        found[ep.name] = ep
    return found


def resolve_order(available: dict[str, object], wanted: Iterable[str],
                  installed: Iterable[str] = ()) -> list[object]:
    """Return the wanted plugins in dependency order, or raise PluginError naming what is wrong.

    ``available`` maps names to loaded plugin objects; ``installed`` names plugins that exist but were
    not loaded (so the message can say "not enabled" rather than "not installed").
    """
    installed = set(installed) | set(available)
    wanted = list(wanted)
    seen_names: set[str] = set()
    for name in wanted:
        if name in seen_names:
            raise PluginError(f"Plugin {name!r} is listed twice in PASSPORT_PLUGINS.")
        seen_names.add(name)
        if name not in available:
            raise PluginError(
                f"Plugin {name!r} is named in PASSPORT_PLUGINS but is not installed "
                f"(installed: {', '.join(sorted(installed)) or 'none'})."
            )
    plugins = {name: available[name] for name in wanted}
    for name, plugin in plugins.items():
        if getattr(plugin, "name", None) != name:
            raise PluginError(f"Entry point {name!r} loads a plugin that calls itself {getattr(plugin, 'name', None)!r}.")
        for req in plugin.requires:
            if req not in plugins:
                raise PluginError(
                    f"Plugin {name!r} requires {req!r}, which is "
                    + ("not installed." if req not in installed else "not enabled in PASSPORT_PLUGINS.")
                )
    order: list[object] = []
    state: dict[str, str] = {}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            cycle = path[path.index(name):] + [name]
            raise PluginError("Plugins require each other in a circle: " + " -> ".join(cycle))
        state[name] = "visiting"
        for req in plugins[name].requires:
            visit(req, path + [name])
        state[name] = "done"
        order.append(plugins[name])

    for name in wanted:
        visit(name, [])
    return order


def init_app(app: Flask) -> None:
    """Load, order and initialise the configured plugins; store them in ``app.extensions``."""
    eps = installed_plugins()
    wanted = app.config.get("PLUGINS")
    if wanted is None:
        wanted = sorted(eps)
    available: dict[str, object] = {}
    for name in set(wanted) & set(eps):
        try:
            available[name] = eps[name].load()
        except Exception as exc:  # an installed plugin that cannot import must stop start-up loudly
            raise PluginError(f"Plugin {name!r} could not be loaded: {exc}") from exc
    extra = app.config.get("EXTRA_PLUGINS") or {}  # objects passed directly (tests, embedding)
    for name, plugin in extra.items():
        if name in available or name in eps:
            raise PluginError(f"Two plugins are both called {name!r}.")
        available[name] = plugin
        if name not in wanted:
            wanted = list(wanted) + [name]
    ordered = resolve_order(available, wanted, installed=eps)
    app.extensions[EXTENSION_KEY] = {p.name: p for p in ordered}
    for plugin in ordered:
        plugin.init_app(app)
        if getattr(plugin, "cli", None) is not None:
            app.cli.add_command(plugin.cli)


def enabled(app: Flask, name: str) -> bool:
    """True when plugin ``name`` is loaded in this app."""
    return name in app.extensions.get(EXTENSION_KEY, {})


# --- contributions: parts that one plugin gathers from every installed plugin ------------------------
#
# A few features collect a piece from each installed plugin without importing them all: "download all
# my data" (kind ``"personal_data"``), the evidence pack for a home (kind ``"evidence_pack"``) and the
# rota check (kind ``"rota_check"``). A plugin adds its piece from its ``setup`` with
# ``contribute(app, kind, name, fn)``; the gathering feature calls ``contributions(app, kind)``. The
# signature of ``fn`` for each kind is documented where the kind is gathered (docs/inspection.md).
CONTRIBUTIONS_KEY = "passport.contributions"


def contribute(app: Flask, kind: str, name: str, fn: Callable) -> None:
    """Offer ``fn`` as this plugin's part of ``kind``; ``name`` labels it (one part per name and kind)."""
    app.extensions.setdefault(CONTRIBUTIONS_KEY, {}).setdefault(kind, {})[name] = fn


def contributions(app: Flask, kind: str) -> list[tuple[str, Callable]]:
    """Every part offered for ``kind``, in the order the plugins were set up."""
    return list(app.extensions.get(CONTRIBUTIONS_KEY, {}).get(kind, {}).items())
