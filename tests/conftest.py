"""Shared fixtures: one embedded PostgreSQL per test session, and databases on it built fresh
from known data — `fixture_db` (hand-made rows), `demo_db` (the demo generator), `legacy_schema_db`
(an older Lillo schema), `empty_db` (no Lillo tables). Every test runs with its own data directory
and the accounts of tests/accounts.py."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest

from dashboard import embedded
from dashboard.auth import write_accounts_file
from dashboard.db import admin_engine
from tests.accounts import ACCOUNTS
from tests.databases import prepared

TESTS_DIR = Path(__file__).parent
_names = itertools.count()


@pytest.fixture(scope="session", autouse=True)
def dashboard_data_dir(tmp_path_factory) -> Path:
    """A data directory of the session's own (sign-in state, cookie key) and its accounts file,
    so tests never touch the project's data/ or a developer's accounts."""
    data_dir = tmp_path_factory.mktemp("dashboard-data")
    accounts_file = data_dir / "accounts.toml"
    write_accounts_file(accounts_file, ACCOUNTS)
    saved = {key: os.environ.get(key) for key in ("DASHBOARD_DATA_DIR", "DASHBOARD_ACCOUNTS_FILE")}
    os.environ["DASHBOARD_DATA_DIR"] = str(data_dir)
    os.environ["DASHBOARD_ACCOUNTS_FILE"] = str(accounts_file)
    yield data_dir
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory):
    server = embedded.start_server(tmp_path_factory.mktemp("pg") / "data", delete_on_exit=True)
    yield server
    server.cleanup()


@pytest.fixture(scope="session")
def new_database(pg_server):
    """A factory: a fresh, empty database on the session's server; returns its URL."""

    def create(prefix: str = "db") -> str:
        return embedded.ensure_database(pg_server, f"{prefix}_{next(_names)}")

    return create


@pytest.fixture(scope="session")
def fixture_db(new_database) -> str:
    return prepared(new_database("fixture"), install=False)


@pytest.fixture(scope="session")
def installed_fixture_db(new_database) -> str:
    """The hand-made fixture with the dashboard's objects installed and the rollups built."""
    return prepared(new_database("installed"))


@pytest.fixture(scope="session")
def demo_db(new_database) -> str:
    return prepared(new_database("demo"), demo=True, install=False)


@pytest.fixture(scope="session")
def legacy_schema_db(new_database) -> str:
    url = new_database("legacy")
    engine = admin_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql((TESTS_DIR / "sql" / "legacy_schema.sql").read_text())
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def empty_db(new_database) -> str:
    return new_database("empty")


@pytest.fixture
def reader(fixture_db):
    """A connection to the hand-made fixture database as the pages get it (read-only)."""
    from dashboard.db import reader_engine

    engine = reader_engine(fixture_db, statement_timeout_ms=5_000)
    with engine.connect() as conn:
        yield conn
    engine.dispose()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so fixtures can react to a failure
    (the browser tests save a screenshot of the failing page)."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
