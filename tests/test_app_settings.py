"""The admin pages rendered by AppTest on an installed database: agent settings (list, editor,
refusals of bad input with nothing written) and the audit log. Saving through the confirmation
dialog reruns only the dialog, which AppTest cannot drive: tests/test_browser.py does that."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from dashboard import views
from dashboard.db import admin_engine
from tests import fixture_data as fx
from tests.accounts import signed_in
from tests.databases import prepared

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def installed_fixture_db(new_database) -> str:
    """This module's own installed fixture database: audit rows it adds cannot be deleted."""
    return prepared(new_database("app_settings"))


@pytest.fixture
def settings_page(monkeypatch, installed_fixture_db):
    monkeypatch.setenv("DATABASE_URL", installed_fixture_db)
    monkeypatch.delenv("DATABASE_READ_URL", raising=False)
    views.clear_cache()

    def open_page(page: str = "settings", **query) -> AppTest:
        at = signed_in(AppTest.from_file(str(ROOT / "app.py"), default_timeout=60), "admin")
        at.query_params.update(query)
        at.run()
        at.switch_page(f"app_pages/{page}.py")
        return at.run()

    return open_page


def agents_table(url: str) -> list[tuple]:
    engine = admin_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select id::text, name, is_active, capabilities, character_config, system_identity"
                " from agents order by id"
            )
        ).all()
        n_audit = conn.execute(sa.text("select count(*) from lillo_dash.audit_log")).scalar_one()
    engine.dispose()
    return [tuple(r) for r in rows] + [("audit rows", n_audit)]


def review(at: AppTest) -> AppTest:
    return next(b for b in at.button if b.label == "Review changes").click().run()


def test_settings_lists_every_agent_without_credentials(settings_page):
    at = settings_page()
    assert not at.exception
    frame = at.dataframe[0].value
    assert sorted(frame["name"]) == ["Alpha", "Beta", "Gamma"]
    credentials = dict(zip(frame["name"], frame["credentials"], strict=True))
    assert credentials == {"Alpha": "set", "Beta": "set", "Gamma": "not set"}
    assert not any("secure" in column for column in frame.columns)
    assert "c2VjcmV0" not in str(at)  # no credential value anywhere on the page


def test_edit_link_opens_that_agent_and_an_unknown_one_says_so(settings_page):
    at = settings_page(edit=fx.GAMMA)
    assert next(w for w in at.text_input if w.label == "Name").value == "Gamma"
    at = settings_page(edit="no-such-agent")
    assert any("does not exist" in i.value for i in at.info)
    assert not at.exception


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("character_config (JSON)", "{broken", "character_config is not valid JSON"),
        ("system_identity (JSON)", json.dumps({"x": "y" * 70_000}), "the limit is 65,536 bytes"),
        ("Name", "", "The name must not be empty"),
        ("Name", "x" * 256, "the limit is 255"),
        ("Add a capability (switched on)", "Not A Key!", "is not a valid key"),
    ],
)
def test_bad_input_is_refused_on_the_page_and_nothing_changes(
    settings_page, installed_fixture_db, field, value, message
):
    before = agents_table(installed_fixture_db)
    at = settings_page(edit=fx.BETA)
    widget = next(w for w in [*at.text_input, *at.text_area] if w.label == field)
    widget.input(value)
    at = review(at)
    assert not at.exception
    assert any(message in e.value for e in at.error), [e.value for e in at.error]
    assert agents_table(installed_fixture_db) == before


def test_unchanged_form_says_nothing_changed(settings_page, installed_fixture_db):
    before = agents_table(installed_fixture_db)
    at = settings_page(edit=fx.BETA)
    at = review(at)
    assert "Nothing changed." in [i.value for i in at.info]
    assert agents_table(installed_fixture_db) == before


def test_audit_page_lists_entries_and_offers_csv(settings_page, installed_fixture_db):
    engine = admin_engine(installed_fixture_db)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "insert into lillo_dash.audit_log (actor, actor_role, action, table_name, row_key, before,"
                " after, reason) values ('ada', 'admin', 'update', 'agents', cast(:key as jsonb),"
                " cast(:before as jsonb), cast(:after as jsonb), :reason)"
            ),
            {
                "key": '{"agent_id": "x"}',
                "before": '{"name": "a"}',
                "after": '{"name": "b"}',
                "reason": "<script>alert(1)</script> rename",
            },
        )
    engine.dispose()
    at = settings_page("audit")
    assert not at.exception
    frame = at.dataframe[0].value
    assert "<script>alert(1)</script> rename" in frame["reason"].tolist()
    assert any(b.value == "Download CSV" and b.proto.url.startswith("/export/") for b in at.link_button)
