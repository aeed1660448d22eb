"""The guarded write path (dashboard.store) on a real database with the dashboard installed:
a good edit writes the row and one audit row; every bad input is refused with a clear message
and leaves the database exactly as it was."""

from __future__ import annotations

import json
import time

import pytest
import sqlalchemy as sa

from dashboard import auth, store
from dashboard.db import admin_engine, writer_engine
from tests import fixture_data as fx
from tests.accounts import ACCOUNTS
from tests.databases import prepared

SNAPSHOT_SQL = sa.text(
    "select id::text, name, is_active, capabilities, character_config, system_identity, secure_config"
    " from agents order by id"
)


@pytest.fixture(scope="module")
def installed_url(new_database) -> str:
    return prepared(new_database("store"), refresh=False)


@pytest.fixture(scope="module")
def writer(installed_url):
    engine = writer_engine(installed_url, statement_timeout_ms=5_000)
    yield engine
    engine.dispose()


@pytest.fixture
def config(dashboard_data_dir) -> auth.AuthConfig:
    import os

    return auth.load_auth_config({}, os.environ, dashboard_data_dir, embedded=False)


def user(role: str) -> auth.User:
    return auth.User(ACCOUNTS[role]["username"], role, time.time())


def snapshot(url: str) -> tuple[list, int]:
    engine = admin_engine(url)
    with engine.connect() as conn:
        agents = [tuple(row) for row in conn.execute(SNAPSHOT_SQL)]
        n_audit = conn.execute(sa.text("select count(*) from lillo_dash.audit_log")).scalar_one()
    engine.dispose()
    return agents, n_audit


def agent_row(url: str, agent_id: str) -> dict:
    engine = admin_engine(url)
    with engine.connect() as conn:
        row = (
            conn.execute(
                sa.text(
                    "select id::text as agent_id, name, is_active, capabilities, character_config,"
                    " system_identity from agents where id::text = :id"
                ),
                {"id": agent_id},
            )
            .mappings()
            .one()
        )
    engine.dispose()
    return dict(row)


def edit(before: dict, **changes) -> store.RowChange:
    fields = {
        "name": before["name"],
        "is_active": before["is_active"],
        "capabilities": {k: v for k, v in (before["capabilities"] or {}).items()},
        "character_config": json.dumps(before["character_config"]) if before["character_config"] else "",
        "system_identity": json.dumps(before["system_identity"]) if before["system_identity"] else "",
    }
    return store.agent_edit(before, **(fields | changes))


def test_admin_edit_writes_the_row_and_one_audit_row(installed_url, writer, config):
    before = agent_row(installed_url, fx.GAMMA)
    change = edit(
        before,
        name="Gamma Prime",
        is_active=False,
        new_capability="image_generation",
        character_config='{"tone": "dry", "emoji": ["🙂"]}',
    )
    assert [field for field, _, _ in change.diff()] == [
        "name",
        "is_active",
        "capabilities",
        "character_config",
    ]
    assert store.apply(writer, config, user("admin"), [change], "  rename for the spring campaign ") == 1

    after = agent_row(installed_url, fx.GAMMA)
    assert after["name"] == "Gamma Prime" and after["is_active"] is False
    assert after["capabilities"] == {"image_generation": True}
    assert after["character_config"] == {"tone": "dry", "emoji": ["🙂"]}
    engine = admin_engine(installed_url)
    with engine.connect() as conn:
        audit = (
            conn.execute(sa.text("select * from lillo_dash.audit_log order by id desc limit 1"))
            .mappings()
            .one()
        )
        secret = conn.execute(
            sa.text("select secure_config from agents where id::text = :id"), {"id": fx.ALPHA}
        )
        assert secret.scalar_one() == "c2VjcmV0LWFscGhh"
    engine.dispose()
    assert (audit["actor"], audit["actor_role"], audit["action"], audit["table_name"]) == (
        "ada",
        "admin",
        "update",
        "agents",
    )
    assert audit["row_key"] == {"agent_id": fx.GAMMA}
    assert audit["before"] == {
        "name": "Gamma",
        "is_active": True,
        "capabilities": {},
        "character_config": None,
    }
    assert audit["after"]["name"] == "Gamma Prime"
    assert audit["reason"] == "rename for the spring campaign"
    assert audit["at"] is not None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"character_config": "{not json"}, "character_config is not valid JSON"),
        ({"system_identity": '{"a": 1,}'}, "system_identity is not valid JSON"),
        ({"character_config": json.dumps({"text": "x" * 70_000})}, "the limit is 65,536 bytes"),
        ({"name": "   "}, "The name must not be empty"),
        ({"name": "n" * 256}, "the limit is 255"),
        ({"name": "bad\x00name"}, "NUL character"),
        ({"new_capability": "Robert'); drop table agents;--"}, "is not a valid key"),
    ],
)
def test_invalid_edits_are_refused_before_any_write(installed_url, changes, message):
    before_db = snapshot(installed_url)
    with pytest.raises(store.InvalidInput, match=message):
        edit(agent_row(installed_url, fx.BETA), **changes)
    assert snapshot(installed_url) == before_db


def test_a_255_character_name_is_accepted(installed_url):
    change = edit(agent_row(installed_url, fx.BETA), name="n" * 255)
    assert change.after["name"] == "n" * 255


def refused(url, writer, config, actor, changes, reason, error, message):
    before_db = snapshot(url)
    with pytest.raises(error, match=message):
        store.apply(writer, config, actor, changes, reason)
    assert snapshot(url) == before_db


def test_unknown_agent_is_refused(installed_url, writer, config):
    ghost = agent_row(installed_url, fx.BETA) | {"agent_id": "00000000-0000-0000-0000-00000000dead"}
    refused(
        installed_url,
        writer,
        config,
        user("admin"),
        [edit(ghost, name="Ghost")],
        "test",
        store.InvalidInput,
        "no agent with id",
    )


def test_stale_edit_is_refused_and_nothing_is_written(installed_url, writer, config):
    opened = agent_row(installed_url, fx.BETA)
    mine = edit(opened, name="Beta by me")
    theirs = edit(opened, is_active=not opened["is_active"])
    store.apply(writer, config, user("admin"), [theirs], "someone else saves first")
    refused(
        installed_url,
        writer,
        config,
        user("admin"),
        [mine],
        "my edit",
        store.StaleEdit,
        "changed by someone else since you opened it — reload",
    )


def test_a_batch_commits_all_or_nothing(installed_url, writer, config):
    alpha, beta = agent_row(installed_url, fx.ALPHA), agent_row(installed_url, fx.BETA)
    good = edit(alpha, name="Alpha renamed")
    stale = edit(beta | {"name": "not what is stored"}, name="Beta renamed")
    refused(installed_url, writer, config, user("admin"), [good, stale], "batch", store.StaleEdit, "reload")
    assert agent_row(installed_url, fx.ALPHA)["name"] == alpha["name"]


def test_viewer_is_refused_even_when_the_user_object_claims_admin(installed_url, writer, config):
    change = edit(agent_row(installed_url, fx.BETA), name="Viewer was here")
    for actor in (user("viewer"), auth.User("vic", "admin", time.time()), None):
        refused(installed_url, writer, config, actor, [change], "try", store.NotAllowed, "Only an admin")


@pytest.mark.parametrize(
    ("reason", "message"), [("", "Say why"), ("   ", "Say why"), ("r" * 1001, "limit is 1000")]
)
def test_a_reason_is_required(installed_url, writer, config, reason, message):
    change = edit(agent_row(installed_url, fx.BETA), name="No reason")
    refused(installed_url, writer, config, user("admin"), [change], reason, store.InvalidInput, message)


def test_an_edit_that_changes_nothing_is_refused(installed_url, writer, config):
    change = edit(agent_row(installed_url, fx.BETA))
    assert change.diff() == []
    refused(
        installed_url,
        writer,
        config,
        user("admin"),
        [change],
        "noop",
        store.InvalidInput,
        "Nothing to change",
    )


@pytest.fixture(scope="module")
def uninstalled_url(new_database) -> str:
    return prepared(new_database("store_uninstalled"), install=False)


def test_without_the_install_the_admin_is_told_to_run_it(uninstalled_url, config):
    writer = writer_engine(uninstalled_url, statement_timeout_ms=5_000)
    try:
        before = agent_row(uninstalled_url, fx.BETA)
        with pytest.raises(store.WriterUnavailable, match="run `python -m dashboard install` first"):
            store.apply(writer, config, user("admin"), [edit(before, name="Uninstalled")], "try")
        assert agent_row(uninstalled_url, fx.BETA) == before
    finally:
        writer.dispose()


def test_without_the_writer_role_the_admin_is_told_to_run_the_install(
    installed_url, writer, config, monkeypatch
):
    # Roles belong to the whole server, which other tests' installs share: stand in a missing one.
    monkeypatch.setattr(store, "WRITER_ROLE", "lillo_dash_writer_never_installed")
    change = edit(agent_row(installed_url, fx.BETA), name="No role")
    refused(
        installed_url,
        writer,
        config,
        user("admin"),
        [change],
        "try",
        store.WriterUnavailable,
        "python -m dashboard install",
    )


def test_a_login_that_may_not_become_the_writer_is_told_how_to_grant_it(installed_url, config):
    admin = admin_engine(installed_url)
    with admin.begin() as conn:
        conn.exec_driver_sql("drop role if exists store_test_login")
        conn.exec_driver_sql("create role store_test_login login password 'store-test-login'")
        conn.exec_driver_sql("grant select on agents to store_test_login")
    admin.dispose()
    url = sa.make_url(installed_url).set(username="store_test_login", password="store-test-login")
    writer = writer_engine(url.render_as_string(hide_password=False), statement_timeout_ms=5_000)
    try:
        change = edit(agent_row(installed_url, fx.BETA), name="Not mine to write")
        refused(
            installed_url,
            writer,
            config,
            user("admin"),
            [change],
            "try",
            store.WriterUnavailable,
            "grant lillo_dash_writer to store_test_login",
        )
    finally:
        writer.dispose()


def test_capability_toggles_change_only_what_was_switched(installed_url):
    before = agent_row(installed_url, fx.BETA) | {"capabilities": {"social": True, "weather": False}}
    change = edit(before, capabilities={"social": True, "weather": True, "market_data": False, "image": True})
    assert change.after["capabilities"] == {"social": True, "weather": True, "image": True}
    untouched = edit(before, capabilities={"social": True, "weather": False, "market_data": False})
    assert untouched.diff() == []
