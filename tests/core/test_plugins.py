"""The plugin contract: ordering, requirements, cycles, and a plugin that lives in the tests."""
import click
import pytest
from flask import Blueprint

from passport import create_app
from passport.plugins import Plugin, PluginError, resolve_order


def _p(name, *requires):
    return Plugin(name=name, requires=tuple(requires))


def test_dependency_order():
    plugins = {"a": _p("a", "b"), "b": _p("b", "c"), "c": _p("c")}
    assert [p.name for p in resolve_order(plugins, ["a", "b", "c"])] == ["c", "b", "a"]


def test_missing_requirement_is_named():
    with pytest.raises(PluginError, match="'verify' requires 'certificates'"):
        resolve_order({"verify": _p("verify", "certificates"), "certificates": _p("certificates")}, ["verify"])


def test_requirement_not_installed():
    with pytest.raises(PluginError, match="requires 'ghost', which is not installed"):
        resolve_order({"a": _p("a", "ghost")}, ["a"])


def test_circular_requirement_is_named():
    with pytest.raises(PluginError, match="circle: a -> b -> a"):
        resolve_order({"a": _p("a", "b"), "b": _p("b", "a")}, ["a", "b"])


def test_duplicate_and_unknown_names():
    with pytest.raises(PluginError, match="listed twice"):
        resolve_order({"a": _p("a")}, ["a", "a"])
    with pytest.raises(PluginError, match="'nope' is named in PASSPORT_PLUGINS but is not installed"):
        resolve_order({"a": _p("a")}, ["nope"])


def test_unknown_plugin_stops_app_start(tmp_path):
    with pytest.raises(PluginError, match="'nope'"):
        create_app({"PLUGINS": "nope", "DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite"})


def test_verify_without_certificates_stops_start(tmp_path):
    with pytest.raises(PluginError, match="'verify' requires 'certificates', which is not enabled"):
        create_app({"PLUGINS": "verify", "DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite"})


def test_a_plugin_from_the_tests_registers_blueprint_cli_and_setup(tmp_path):
    bp = Blueprint("hello", __name__, url_prefix="/hello")

    @bp.get("/")
    def index():
        return "hello from a plugin"

    @click.group("hello")
    def cli():
        """Hello commands."""

    @cli.command("say")
    def say():
        click.echo("hi")

    calls = []
    plugin = Plugin(name="hello", blueprint=bp, cli=cli, setup=lambda app: calls.append(app.name))
    app = create_app({"PLUGINS": [], "EXTRA_PLUGINS": {"hello": plugin},
                      "DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite"})
    assert list(app.extensions["passport.plugins"]) == ["hello"]
    assert calls == ["passport"]
    assert app.test_client().get("/hello/").data == b"hello from a plugin"
    result = app.test_cli_runner().invoke(args=["hello", "say"])
    assert result.output == "hi\n"


def test_no_plugins_core_still_serves(tmp_path):
    app = create_app({"PLUGINS": "", "DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite"})
    assert app.extensions["passport.plugins"] == {}
    assert app.test_client().get("/health").status_code == 200


def test_default_loads_every_installed_plugin(app):
    assert {"courses", "certificates", "verify", "delegation"} <= set(app.extensions["passport.plugins"])
