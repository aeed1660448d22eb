"""The dashboard's database roles and audit log (sql/install/005 and 006), proved by PostgreSQL's
own refusals: lillo_dash_reader reads and changes nothing, never agents.secure_config;
lillo_dash_writer changes only agents' editable columns, model preferences and new audit rows;
audit rows are append-only even for their owner. Each refused statement runs in its own
transaction, and the data is compared before and after."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
import sqlalchemy as sa
from psycopg import errors, sql

from dashboard.db import admin_engine
from dashboard.install import apply_lillo_schema, install_dashboard_objects
from tests import fixture_data as fx

READER = "lillo_dash_reader"
WRITER = "lillo_dash_writer"
NO_CREDENTIALS = "44444444-4444-4444-4444-444444444444"  # secure_config is '', not null
AGENT_COLUMNS = [
    "id", "name", "type", "secure_config", "token_config", "system_identity", "character_config",
    "capabilities", "is_active", "created_at", "updated_at",
]  # fmt: skip
EDITABLE = ["name", "system_identity", "character_config", "capabilities", "is_active", "updated_at"]
LILLO_TABLES = [
    "chat_messages", "posts", "user_data", "command_metrics", "gerta_poses", "illustrations", "agents",
    "model_preferences",
]  # fmt: skip
AUDIT_ROW = (
    "insert into lillo_dash.audit_log (actor, actor_role, action, table_name, row_key, before, after, reason)"
    """ values ('ana', 'admin', 'update', 'agents', '{"id": "x"}', '{"name": "A"}', '{"name": "B"}',"""
    " 'rename')"
)


def conninfo(url: str) -> str:
    return sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def ids(names: dict[str, str]) -> dict[str, sql.Identifier]:
    return {key: sql.Identifier(name) for key, name in names.items()}


def as_login(url: str, login: str) -> str:
    return url.replace("postgres:@", f"{login}:@")


@contextmanager
def connected(url: str, role: str | None = None) -> Iterator[psycopg.Connection]:
    """A connection that runs each statement in its own transaction unless told otherwise, acting
    as `role` (SET ROLE, as the dashboard does) when given."""
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        if role:
            conn.execute(sql.SQL("set role {}").format(sql.Identifier(role)))
        yield conn


def refused(
    conn: psycopg.Connection, statement: str, error: type[Exception] = errors.InsufficientPrivilege
) -> Exception:
    with pytest.raises(error) as raised, conn.transaction():
        conn.execute(statement)
    return raised.value


def build(new_database, prefix: str) -> str:
    url = new_database(prefix)
    engine = admin_engine(url)
    apply_lillo_schema(engine)
    fx.load(engine)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "insert into agents (id, name, type, secure_config)"
                " values (cast(:id as uuid), 'Delta', 'x', '')"
            ),
            {"id": NO_CREDENTIALS},
        )
        conn.execute(
            sa.text(
                "insert into model_preferences (agent_id, chat_id, model_type) values (:agent, :chat, 'GROK')"
            ),
            {"agent": fx.ALPHA, "chat": fx.PRIVATE_CHAT},
        )
    install_dashboard_objects(engine)
    engine.dispose()
    return url


@pytest.fixture(scope="module")
def roles_db(new_database) -> str:
    """The hand-made fixture (plus an agent with empty credentials and a model preference), the
    dashboard installed, one audit row written by the writer."""
    url = build(new_database, "roles")
    with connected(url, WRITER) as writer:
        writer.execute(AUDIT_ROW)
    return url


@pytest.fixture(scope="module")
def admin(roles_db):
    with connected(roles_db) as conn:
        yield conn


@pytest.fixture(scope="module")
def reader(roles_db):
    with connected(roles_db, READER) as conn:
        yield conn


@pytest.fixture(scope="module")
def writer(roles_db):
    with connected(roles_db, WRITER) as conn:
        yield conn


def digest(conn: psycopg.Connection) -> dict[str, str]:
    """A fingerprint of every row of Lillo's tables and the audit log."""
    tables = [sql.Identifier(t) for t in LILLO_TABLES] + [sql.Identifier("lillo_dash", "audit_log")]
    return {
        table.as_string(conn): conn.execute(
            sql.SQL(
                "select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) from {} as t"
            ).format(table)
        ).fetchone()[0]
        for table in tables
    }


@pytest.fixture
def unchanged(admin):
    """Fails the test if it changed any row."""
    before = digest(admin)
    yield
    assert digest(admin) == before


def privileges(conn: psycopg.Connection, role: str) -> set[tuple[str, str | None, str]]:
    """Everything granted to `role` in this database: (object, column or None, privilege)."""
    rows = conn.execute(
        """
        select c.oid::regclass::text, null, a.privilege_type
        from pg_class as c cross join lateral aclexplode(c.relacl) as a
        where a.grantee = %(role)s::regrole
        union all
        select c.oid::regclass::text, att.attname::text, a.privilege_type
        from pg_attribute as att
        inner join pg_class as c on c.oid = att.attrelid
        cross join lateral aclexplode(att.attacl) as a
        where a.grantee = %(role)s::regrole
        union all
        select 'schema ' || n.nspname, null, a.privilege_type
        from pg_namespace as n cross join lateral aclexplode(n.nspacl) as a
        where a.grantee = %(role)s::regrole
        union all
        select p.oid::regprocedure::text, null, a.privilege_type
        from pg_proc as p cross join lateral aclexplode(p.proacl) as a
        where a.grantee = %(role)s::regrole
        """,
        {"role": role},
    ).fetchall()
    return set(rows)


def expected_reader(conn: psycopg.Connection, agent_columns: list[str]) -> set:
    dashboard_tables = conn.execute(
        "select oid::regclass::text from pg_class"
        " where relnamespace = 'lillo_dash'::regnamespace and relkind in ('r', 'p', 'v', 'm', 'f')"
    ).fetchall()
    functions = conn.execute(
        "select oid::regprocedure::text from pg_proc where pronamespace = 'lillo_dash'::regnamespace"
    ).fetchall()
    assert ("lillo_dash.audit_log",) in dashboard_tables
    assert ("lillo_dash.agent_credentials()",) in functions
    return (
        {("schema public", None, "USAGE"), ("schema lillo_dash", None, "USAGE")}
        | {(t, None, "SELECT") for t in LILLO_TABLES if t != "agents"}
        | {("agents", c, "SELECT") for c in agent_columns if c != "secure_config"}
        | {(t, None, "SELECT") for (t,) in dashboard_tables}
        | {(f, None, "EXECUTE") for (f,) in functions}
    )


EXPECTED_WRITER = (
    {("schema public", None, "USAGE"), ("schema lillo_dash", None, "USAGE")}
    | {("agents", c, "SELECT") for c in ["id", *EDITABLE]}
    | {("agents", c, "UPDATE") for c in EDITABLE}
    | {("model_preferences", None, p) for p in ["SELECT", "INSERT", "UPDATE", "DELETE"]}
    | {("lillo_dash.audit_log", None, "INSERT"), ("lillo_dash.audit_log_id_seq", None, "USAGE")}
)


def test_roles_hold_exactly_their_grants(admin):
    assert privileges(admin, READER) == expected_reader(admin, AGENT_COLUMNS)
    assert privileges(admin, WRITER) == EXPECTED_WRITER
    logins = admin.execute(
        "select rolname from pg_roles where rolname in (%s, %s) and not rolcanlogin", (READER, WRITER)
    ).fetchall()
    assert sorted(logins) == [(READER,), (WRITER,)]


# --- lillo_dash_reader -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "select count(*) from chat_messages",
        "select count(*) from posts",
        "select count(*) from user_data",
        "select count(*) from command_metrics",
        "select count(*) from gerta_poses",
        "select count(*) from illustrations",
        "select count(*) from model_preferences",
        "select id, name, type, is_active, capabilities, character_config, system_identity, token_config,"
        " created_at, updated_at from agents",
        "select count(*) from lillo_dash.audit_log",
        "select count(*) from lillo_dash.message_hourly",
        "select count(*) from lillo_dash.installed_files",
        "select * from lillo_dash.whole_days(now() - interval '3 days', now())",
    ],
)
def test_reader_reads(reader, statement):
    with reader.transaction():
        assert reader.execute(statement).fetchall() is not None


def test_reader_sees_the_audit_rows(reader):
    assert reader.execute("select actor, action, reason from lillo_dash.audit_log").fetchall() == [
        ("ana", "update", "rename")
    ]


def test_agent_credentials_tells_which_agents_have_them(reader):
    got = dict(
        reader.execute("select agent_id, credentials_set from lillo_dash.agent_credentials()").fetchall()
    )
    expected = {a["id"]: a["secure_config"] is not None for a in fx.AGENTS} | {NO_CREDENTIALS: False}
    assert got == expected
    assert expected[fx.ALPHA] and not expected[fx.GAMMA]


def test_agent_credentials_ignores_the_callers_search_path(reader):
    """A caller's own `agents` (here a temporary table, searched first) cannot stand in for
    Lillo's in the SECURITY DEFINER function."""
    with reader.transaction(force_rollback=True):
        reader.execute("create temporary table agents (id uuid, secure_config text)")
        reader.execute("insert into pg_temp.agents values (gen_random_uuid(), 'stolen?')")
        reader.execute("set local search_path = pg_temp, public")
        got = reader.execute(
            "select count(*), count(*) filter (where credentials_set) from lillo_dash.agent_credentials()"
        )
        assert got.fetchone() == (len(fx.AGENTS) + 1, 2)


@pytest.mark.parametrize(
    "statement",
    [
        "select secure_config from agents",
        "select * from agents",
        "select id from agents where secure_config is not null",
        "select count(secure_config) from agents",
        "select agents from agents",
    ],
)
def test_reader_cannot_see_secure_config(reader, statement):
    refused(reader, statement)


@pytest.mark.parametrize(
    "statement",
    [
        "insert into chat_messages (message_id, chat_id, user_id, user_first_name, role, content, timestamp,"
        " agent_id) values (99, 1, 1, 'x', 'user', 'x', 0, 'x')",
        "update chat_messages set content = 'x'",
        "delete from chat_messages",
        "truncate chat_messages",
        "insert into agents (id, name, type) values (gen_random_uuid(), 'x', 'x')",
        "update agents set name = 'x'",
        "update agents set secure_config = null",
        "delete from agents",
        "insert into model_preferences (agent_id, chat_id, model_type) values ('x', 1, 'OPENAI')",
        "update model_preferences set model_type = 'OPENAI'",
        "delete from model_preferences",
        "update posts set content = 'x'",
        "delete from user_data",
        "insert into lillo_dash.audit_log (actor, actor_role, action, table_name, row_key)"
        " values ('x', 'admin', 'view', 'agents', '{}')",
        "update lillo_dash.audit_log set reason = 'x'",
        "delete from lillo_dash.audit_log",
        "delete from lillo_dash.message_hourly",
        "create table public.reader_table (id int)",
        "create table lillo_dash.reader_table (id int)",
        "create schema reader_schema",
    ],
)
def test_reader_changes_nothing(reader, unchanged, statement):
    refused(reader, statement)


# --- lillo_dash_writer -------------------------------------------------------------------------


def test_writer_updates_editable_agent_columns(writer):
    """As the guarded write path does: read the row's version, update only if it is unchanged."""
    with writer.transaction(force_rollback=True):
        version = writer.execute("select updated_at from agents where id = %s", (fx.ALPHA,)).fetchone()[0]
        changed = writer.execute(
            "update agents set name = %s, is_active = false, capabilities = %s::jsonb,"
            " character_config = '{}'::jsonb, system_identity = '{}'::jsonb, updated_at = now()"
            " where id = %s and updated_at = %s",
            ("Alpha 2", '{"image_generation": true}', fx.ALPHA, version),
        )
        assert changed.rowcount == 1
        row = writer.execute("select name, is_active, capabilities from agents where id = %s", (fx.ALPHA,))
        assert row.fetchone() == ("Alpha 2", False, {"image_generation": True})


def test_writer_inserts_updates_and_deletes_model_preferences(writer):
    with writer.transaction(force_rollback=True):
        insert = "insert into model_preferences (agent_id, chat_id, model_type) values (%s, %s, 'GEMINI')"
        assert writer.execute(insert, (fx.BETA, fx.OTHER_PRIVATE_CHAT)).rowcount == 1
        update = (
            "update model_preferences set model_type = 'DEEPSEEK', updated_at = now() where agent_id = %s"
        )
        assert writer.execute(update, (fx.BETA,)).rowcount == 1
        assert writer.execute("delete from model_preferences where agent_id = %s", (fx.BETA,)).rowcount == 1


def test_writer_appends_audit_rows(writer, admin):
    """The module's database holds one row the writer committed; this one is rolled back."""
    assert admin.execute("select actor, reason from lillo_dash.audit_log").fetchall() == [("ana", "rename")]
    with writer.transaction(force_rollback=True):
        assert writer.execute(AUDIT_ROW).rowcount == 1


@pytest.mark.parametrize(
    "statement",
    [
        "delete from agents",
        "insert into agents (id, name, type) values (gen_random_uuid(), 'x', 'x')",
        "update agents set secure_config = 'x'",
        "update agents set type = 'x'",
        "select secure_config from agents",
        "select * from agents",
        "select type from agents",
        "select * from lillo_dash.agent_credentials()",
        "select count(*) from chat_messages",
        "insert into chat_messages (message_id, chat_id, user_id, user_first_name, role, content, timestamp,"
        " agent_id) values (99, 1, 1, 'x', 'user', 'x', 0, 'x')",
        "update chat_messages set content = 'x'",
        "delete from chat_messages",
        "select count(*) from posts",
        "update user_data set username = 'x'",
        "delete from command_metrics",
        "truncate model_preferences",
        "select count(*) from lillo_dash.audit_log",
        "update lillo_dash.audit_log set reason = 'x'",
        "delete from lillo_dash.audit_log",
        "truncate lillo_dash.audit_log",
        # INSERT only: reading back the new id would need SELECT on the audit log.
        AUDIT_ROW + " returning id",
        "delete from lillo_dash.message_hourly",
        "create table lillo_dash.writer_table (id int)",
    ],
)
def test_writer_does_nothing_else(writer, unchanged, statement):
    refused(writer, statement)


@pytest.mark.parametrize(
    "statement",
    [
        "update lillo_dash.audit_log set reason = 'edited'",
        "update lillo_dash.audit_log set reason = 'edited' where false",
        "delete from lillo_dash.audit_log",
        "truncate lillo_dash.audit_log",
    ],
)
def test_audit_rows_are_append_only_even_for_their_owner(admin, unchanged, statement):
    error = refused(admin, statement, errors.RaiseException)
    assert "audit rows are append-only" in str(error)


# --- install ------------------------------------------------------------------------------------


def test_install_twice_keeps_the_grants(roles_db, admin, reader, writer):
    engine = admin_engine(roles_db)
    install_dashboard_objects(engine)
    install_dashboard_objects(engine)
    engine.dispose()
    assert privileges(admin, READER) == expected_reader(admin, AGENT_COLUMNS)
    assert privileges(admin, WRITER) == EXPECTED_WRITER
    assert reader.execute("select count(*) from chat_messages").fetchone()[0] == len(fx._MESSAGES)
    refused(reader, "select secure_config from agents")
    refused(writer, "delete from agents")


def test_reinstall_after_schema_change_rebuilds_the_grants(new_database):
    """A new agents column is readable, never writable; a privilege granted by hand is gone."""
    url = build(new_database, "roles_changed")
    with connected(url) as admin:
        admin.execute("alter table agents add column notes text")
        admin.execute("grant delete, update on agents to lillo_dash_writer")
        admin.execute("grant insert on chat_messages to lillo_dash_reader")
        engine = admin_engine(url)
        install_dashboard_objects(engine)
        engine.dispose()
        assert privileges(admin, READER) == expected_reader(admin, [*AGENT_COLUMNS, "notes"])
        assert privileges(admin, WRITER) == EXPECTED_WRITER
    with connected(url, READER) as reader:
        assert reader.execute("select count(notes) from agents").fetchone() == (0,)


def test_install_without_agents_table(new_database):
    url = new_database("roles_no_agents")
    with connected(url) as admin:
        admin.execute(
            "create table chat_messages"
            " (id serial primary key, chat_id bigint not null, content text not null)"
        )
        admin.execute("insert into chat_messages (chat_id, content) values (1, 'hello')")
    engine = admin_engine(url)
    install_dashboard_objects(engine)
    install_dashboard_objects(engine)
    engine.dispose()
    with connected(url, READER) as reader:
        assert reader.execute("select content from chat_messages").fetchall() == [("hello",)]
        assert reader.execute("select * from lillo_dash.agent_credentials()").fetchall() == []
    with connected(url, WRITER) as writer:
        refused(writer, "select count(*) from chat_messages")


@pytest.fixture(scope="module")
def owner_login(pg_server) -> str:
    """A login like a hosted database's owner (Neon's neondb_owner): CREATEROLE, no superuser."""
    name = "lillo_owner_roles_test"
    with psycopg.connect(pg_server.get_uri(), autocommit=True) as conn:
        if not conn.execute("select from pg_roles where rolname = %s", (name,)).fetchone():
            conn.execute(sql.SQL("create role {} login createrole").format(sql.Identifier(name)))
    return name


def test_owner_login_may_set_role_after_install(roles_db, new_database, owner_login):
    """A login holding the roles WITH ADMIN OPTION only, as PostgreSQL 16+ gives a CREATEROLE
    login for the roles it creates, grants itself SET: one DATABASE_URL can switch roles."""
    url = new_database("roles_owner")
    names = {"db": sa.make_url(url).database, "owner": owner_login, "r": READER, "w": WRITER}
    with connected(url) as admin:
        admin.execute(sql.SQL("alter database {db} owner to {owner}").format(**ids(names)))
        admin.execute(
            sql.SQL("grant {r}, {w} to {owner} with admin true, inherit false, set false").format(
                **ids(names)
            )
        )
    owner_url = as_login(url, owner_login)
    engine = admin_engine(owner_url)
    apply_lillo_schema(engine)
    fx.load(engine)
    install_dashboard_objects(engine)
    install_dashboard_objects(engine)
    engine.dispose()
    with connected(owner_url) as owner:
        can = "select pg_has_role(current_user, %s, 'SET'), pg_has_role(current_user, %s, 'USAGE')"
        assert owner.execute(can, (READER, READER)).fetchone() == (True, False)
        assert owner.execute(can, (WRITER, WRITER)).fetchone() == (True, False)
        owner.execute(sql.SQL("set role {r}").format(**ids(names)))
        assert owner.execute("select count(*) from agents").fetchone() == (len(fx.AGENTS),)
        refused(owner, "select secure_config from agents")
        owner.execute(sql.SQL("set role {w}").format(**ids(names)))
        refused(owner, "delete from agents")


def test_install_by_a_login_not_owning_lillos_tables_fails_clearly(new_database, owner_login):
    url = new_database("roles_not_owner")
    names = {"db": sa.make_url(url).database, "owner": owner_login}
    engine = admin_engine(url)
    apply_lillo_schema(engine)
    engine.dispose()
    with connected(url) as admin:
        admin.execute(sql.SQL("grant create on database {db} to {owner}").format(**ids(names)))
    engine = admin_engine(as_login(url, owner_login))
    with pytest.raises(errors.InsufficientPrivilege) as raised:
        install_dashboard_objects(engine)
    engine.dispose()
    assert (
        raised.value.diag.message_primary == "cannot grant lillo_dash_reader access to public.chat_messages"
    )
    assert raised.value.diag.message_hint == (
        "Run `python -m dashboard install` as the owner of Lillo's tables (postgres owns this one)."
    )
    with connected(url) as admin:
        assert admin.execute("select to_regnamespace('lillo_dash')").fetchone() == (None,)
