import pytest

from passport import create_app
from passport.config import ConfigError


def test_production_refuses_default_secret(tmp_path):
    with pytest.raises(ConfigError, match="PASSPORT_SECRET_KEY"):
        create_app({"ENV_NAME": "production", "DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite",
                    "PUBLIC_URL": "https://p.example"})


def test_production_needs_https_public_url(tmp_path):
    with pytest.raises(ConfigError, match="https"):
        create_app({"ENV_NAME": "production", "SECRET_KEY": "s" * 40, "PUBLIC_URL": "http://p.example",
                    "DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite"})


def test_production_with_real_secret_sets_secure_cookies(tmp_path):
    app = create_app({"ENV_NAME": "production", "SECRET_KEY": "s" * 40, "PUBLIC_URL": "https://p.example/",
                      "DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite"})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["PUBLIC_URL"] == "https://p.example"


def test_environment_then_overrides(tmp_path, monkeypatch):
    monkeypatch.setenv("PASSPORT_PUBLIC_URL", "https://from-env.example")
    monkeypatch.setenv("PASSPORT_DATABASE_URL", f"sqlite:///{tmp_path}/env.sqlite")
    monkeypatch.setenv("PASSPORT_PLUGINS", "courses, delegation")
    app = create_app()
    assert app.config["PUBLIC_URL"] == "https://from-env.example"
    assert app.config["DATABASE_URL"].endswith("env.sqlite")
    assert set(app.extensions["passport.plugins"]) == {"courses", "delegation"}
    app = create_app({"PUBLIC_URL": "https://override.example", "PLUGINS": []})
    assert app.config["PUBLIC_URL"] == "https://override.example"


def test_factory_does_not_touch_the_database(tmp_path):
    create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/untouched.sqlite"})
    assert not (tmp_path / "untouched.sqlite").exists()


def test_proxy_count_trusts_forwarded_headers(tmp_path):
    from flask import request

    app = create_app({"PROXY_COUNT": 1, "PLUGINS": [], "DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite"})

    @app.get("/whoami")
    def whoami():
        return request.remote_addr

    resp = app.test_client().get("/whoami", headers={"X-Forwarded-For": "203.0.113.9"})
    assert resp.data == b"203.0.113.9"
