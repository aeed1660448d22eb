"""A database that cannot be used gets one clear message — in the app and from the CLI — and is
never changed by the dashboard."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from dashboard import views
from dashboard.db import admin_engine
from tests.accounts import signed_in

ROOT = Path(__file__).resolve().parent.parent
UNREACHABLE = "postgresql://lillo:s3cret-pw@127.0.0.1:1/lillo"


@pytest.fixture(scope="module")
def password_db(pg_server, new_database):
    """A database whose role must sign in with a password (the embedded server trusts everyone
    else), so a wrong password is refused by PostgreSQL itself."""
    url = new_database("password")
    engine = admin_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("create role pw_user login password 'right-password'")
    engine.dispose()
    hba = Path(pg_server.pgdata) / "pg_hba.conf"
    original = hba.read_text()
    hba.write_text("local all pw_user scram-sha-256\n" + original)
    reload = admin_engine(url)
    with reload.connect() as conn:
        conn.exec_driver_sql("select pg_reload_conf()")
    reload.dispose()
    yield url.replace("postgres:@", "pw_user:wrong-password@")
    hba.write_text(original)


def run_app(monkeypatch, url: str) -> AppTest:
    monkeypatch.setenv("DATABASE_URL", url)
    views.clear_cache()
    return signed_in(AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)).run()


def run_cli(url: str, *args: str) -> subprocess.CompletedProcess:
    env = os.environ | {"DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "dashboard", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_unreachable_host_named_in_app_and_cli(monkeypatch):
    at = run_app(monkeypatch, UNREACHABLE)
    assert not at.exception
    assert len(at.error) == 1
    message = at.error[0].value
    assert "Cannot connect to the database at 127.0.0.1:1" in message
    assert "nothing is accepting connections" in message
    assert "s3cret-pw" not in message
    cli = run_cli(UNREACHABLE, "check")
    assert cli.returncode == 1
    assert "Cannot connect to the database at 127.0.0.1:1" in cli.stderr
    assert "Traceback" not in cli.stderr and "s3cret-pw" not in cli.stderr


def test_wrong_password_named_in_app_and_cli(monkeypatch, password_db):
    at = run_app(monkeypatch, password_db)
    assert not at.exception
    assert "the password for user 'pw_user' was rejected" in at.error[0].value
    assert "wrong-password" not in at.error[0].value
    cli = run_cli(password_db, "check")
    assert cli.returncode == 1
    assert "the password for user 'pw_user' was rejected" in cli.stderr


def test_database_without_lillo_tables_is_named_and_left_alone(monkeypatch, empty_db):
    at = run_app(monkeypatch, empty_db)
    assert not at.exception
    assert "has no Lillo tables" in at.error[0].value
    assert "chat_messages" in at.error[0].value
    cli = run_cli(empty_db, "check")
    assert cli.returncode == 1
    assert "has no Lillo tables" in cli.stderr
    engine = admin_engine(empty_db)
    with engine.connect() as conn:
        tables = conn.execute(
            sa.text("select count(*) from pg_tables where schemaname = 'public'")
        ).scalar_one()
    engine.dispose()
    assert tables == 0, "the dashboard must never create Lillo's tables in a configured database"


def test_demo_refuses_a_configured_database(empty_db):
    cli = run_cli(empty_db, "demo", "--scale", "1000")
    assert cli.returncode == 1
    assert "loads only into the embedded database" in cli.stderr


def test_cli_check_passes_on_a_lillo_database(fixture_db):
    cli = run_cli(fixture_db, "check")
    assert cli.returncode == 0, cli.stderr
    assert "All eight Lillo tables are present." in cli.stdout


def _no_rows(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "truncate chat_messages, command_metrics, user_data, model_preferences restart identity"
        )


@pytest.fixture(scope="module")
def no_rows_db(new_database) -> str:
    from tests.databases import prepared

    return prepared(new_database("no_rows"), seed=_no_rows)


@pytest.mark.parametrize(
    ("page", "query"),
    [
        ("app_pages/overview.py", {}),
        ("app_pages/conversations.py", {"range": "all"}),
        ("app_pages/conversations.py", {"q": "price"}),
        ("app_pages/conversations.py", {"chat": "12345"}),
        ("app_pages/people.py", {}),
        ("app_pages/people.py", {"person": "501"}),
    ],
)
def test_a_database_without_rows_shows_notices_not_tracebacks(monkeypatch, no_rows_db, page, query):
    at = run_app(monkeypatch, no_rows_db)
    at.switch_page(page)
    at.query_params.update(query)
    at.run()
    assert not at.exception
    assert not at.error
    shown = [c.value for c in at.caption] + [i.value for i in at.info] + [w.value for w in at.warning]
    assert shown  # says what is (not) there rather than drawing nothing
