"""The sign-in gate and role-based navigation, rendered by AppTest against a real database."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import views
from dashboard.auth import User
from dashboard.signin import SESSION_KEY
from tests.accounts import ACCOUNTS, signed_in

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")


@pytest.fixture
def app(monkeypatch, fixture_db):
    monkeypatch.setenv("DATABASE_URL", fixture_db)
    monkeypatch.delenv("DATABASE_READ_URL", raising=False)
    views.clear_cache()
    return AppTest.from_file(APP, default_timeout=60)


def shows_data(at: AppTest) -> bool:
    return bool(at.metric or at.dataframe or at.get("plotly_chart"))


def sign_in_with_form(at: AppTest, username: str, password: str) -> AppTest:
    at.text_input[0].input(username)
    at.text_input[1].input(password)
    return at.button[0].click().run()


def test_signed_out_sees_only_the_sign_in_form(app):
    at = app.run()
    assert not at.exception
    assert [t.label for t in at.text_input] == ["Username", "Password"]
    assert not shows_data(at)
    assert "Overview" not in [t.value for t in at.title]


@pytest.mark.parametrize("page", ["app_pages/settings.py", "app_pages/audit.py", "app_pages/model_tuning.py"])
def test_admin_pages_run_alone_show_no_data_without_sign_in(monkeypatch, fixture_db, page):
    monkeypatch.setenv("DATABASE_URL", fixture_db)
    at = AppTest.from_file(str(ROOT / page), default_timeout=60).run()
    assert not at.exception
    assert not shows_data(at)
    assert [t.label for t in at.text_input] == ["Username", "Password"]


def test_wrong_password_is_refused_without_saying_whether_the_account_exists(app):
    at = sign_in_with_form(app.run(), "ada", "wrong password")
    assert [e.value for e in at.error] == ["Wrong username or password."]
    assert not shows_data(at)
    at = sign_in_with_form(at, "no-such-user", "wrong password")
    assert [e.value for e in at.error] == ["Wrong username or password."]


def test_right_password_opens_the_overview(app):
    account = ACCOUNTS["viewer"]
    at = sign_in_with_form(app.run(), account["username"], account["password"])
    assert not at.exception
    assert "Overview" in [t.value for t in at.title]
    assert at.metric
    assert at.session_state[SESSION_KEY].name == "vic"


def test_viewer_navigation_has_no_admin_pages(app):
    at = signed_in(app, "viewer").run()
    assert not at.exception
    pages = [p.url_path for p in at.get("navigation")[0].proto.app_pages] if at.get("navigation") else []
    sidebar_text = " ".join(str(getattr(e, "value", "")) for e in at.sidebar)
    assert not {"settings", "audit", "model-tuning"} & set(pages)
    assert "vic · viewer" in sidebar_text


@pytest.mark.parametrize("page", ["app_pages/settings.py", "app_pages/audit.py", "app_pages/model_tuning.py"])
def test_viewer_running_an_admin_page_is_refused(monkeypatch, fixture_db, page):
    # The page is not in a viewer's navigation at all; this is the page's own second lock.
    monkeypatch.setenv("DATABASE_URL", fixture_db)
    at = signed_in(AppTest.from_file(str(ROOT / page), default_timeout=60), "viewer").run()
    assert not at.exception
    assert "This page is for admins only." in [e.value for e in at.error]
    assert not at.dataframe


def test_admin_navigation_has_the_admin_pages(app):
    at = signed_in(app, "admin").run()
    at.switch_page("app_pages/settings.py")
    at = at.run()
    assert not at.exception
    assert "Agent settings" in [t.value for t in at.title]


def test_sign_out_returns_to_the_sign_in_form(app):
    at = signed_in(app, "viewer").run()
    sign_out = next(b for b in at.sidebar.button if b.label == "Sign out")
    at = sign_out.click().run()
    assert [t.label for t in at.text_input] == ["Username", "Password"]
    assert not shows_data(at)
    # The old session object no longer counts either (signing out ends it everywhere).
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state[SESSION_KEY] = User("vic", "viewer", time.time() - 60)
    at = at.run()
    assert not at.exception
    assert [t.label for t in at.text_input] == ["Username", "Password"]
