"""The Models page and the admin's Model tuning page, rendered by AppTest on an installed demo
database: the analysis tables, a filtered group of chats moved to another model and back (rows,
audit rows), and each refused input with the database unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from dashboard import views
from dashboard.db import admin_engine
from tests.accounts import signed_in
from tests.databases import prepared

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def models_db(new_database) -> str:
    """This module's own installed demo database: its model preferences are changed here."""
    return prepared(new_database("models_page"), demo=True)


@pytest.fixture
def open_page(monkeypatch, models_db):
    monkeypatch.setenv("DATABASE_URL", models_db)
    monkeypatch.delenv("DATABASE_READ_URL", raising=False)
    views.clear_cache()

    def open_(page: str, role: str = "admin", **query) -> AppTest:
        at = signed_in(AppTest.from_file(str(ROOT / "app.py"), default_timeout=90), role)
        at.query_params.update(query)
        at.run()
        at.switch_page(f"app_pages/{page}.py")
        return at.run()

    return open_


def state(url: str) -> tuple[list[tuple], int]:
    """Every model preference row and the number of audit rows about them."""
    engine = admin_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("select agent_id, chat_id, model_type, updated_at from model_preferences order by 1, 2")
        ).all()
        n_audit = conn.execute(
            sa.text("select count(*) from lillo_dash.audit_log where table_name = 'model_preferences'")
        ).scalar_one()
    engine.dispose()
    return [tuple(r) for r in rows], n_audit


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label.startswith(label))


def test_models_page_shows_mix_comparison_misconfigurations_and_history(open_page):
    at = open_page("models", role="viewer", range="all")
    assert not at.exception
    assert "Models" in [t.value for t in at.title]
    overall = at.dataframe[0].value
    assert list(overall["model_type"][:4]) == ["OPENAI", "GEMINI", "GROK", "DEEPSEEK"]
    assert overall["n_chats"].sum() > 0 and overall["n_default_chats"].iloc[0] > 0
    assert abs(overall["traffic_share"].sum() - 1) < 1e-9
    comparison = next(d.value for d in at.dataframe if "evidence" in d.value.columns)
    assert set(comparison["model_type"]) >= {"OPENAI", "GEMINI", "GROK", "DEEPSEEK"}
    assert all("chat" in e for e in comparison["evidence"])
    assert "Model tuning" not in str(at.main)  # a viewer gets no link to the admin page


def tuning(open_page, **choices) -> AppTest:
    at = open_page("model_tuning", range="all")
    assert not at.exception
    for label, value in choices.items():
        widget = next(w for w in [*at.selectbox, *at.number_input, *at.text_input] if w.label == label)
        widget.set_value(value)
    if choices:
        at = at.run()
    return at


def preview(at: AppTest, new_model: str) -> AppTest:
    next(s for s in at.selectbox if s.label == "New model").set_value(new_model)
    return button(at.run(), "Preview the change").click().run()


def confirm(at: AppTest, reason: str) -> AppTest:
    next(t for t in at.text_area if t.label.startswith("Reason")).input(reason)
    return button(at.run(), "Confirm and change").click().run()


def test_admin_moves_the_gemini_chats_to_grok_and_back(open_page, models_db):
    rows_before, audits_before = state(models_db)
    gemini = {(a, c) for a, c, m, _ in rows_before if m == "GEMINI"}
    assert 2 <= len(gemini) < 500
    at = tuning(open_page, **{"Running on": "GEMINI", "At least this many messages in the range": 0})
    assert set(at.dataframe[0].value["model_type"]) == {"GEMINI"}
    at = preview(at, "GROK")
    shown = next(d.value for d in at.dataframe if "model_after" in d.value.columns)
    assert len(shown) == len(gemini)
    assert set(shown["model_before"]) == {"GEMINI"} and set(shown["model_after"]) == {"GROK"}
    at = confirm(at, "try GROK where GEMINI cannot call tools")
    assert not at.exception and not at.error
    rows, audits = state(models_db)
    now = {(a, c): m for a, c, m, _ in rows}
    assert all(now[pair] == "GROK" for pair in gemini)
    assert len(rows) == len(rows_before)  # updated, not added
    assert audits == audits_before + len(gemini)
    # Undo: the same pairs back to GEMINI, one more audit row each.
    at = button(at, "Undo the last change").click().run()
    back = next(d.value for d in at.dataframe if "model_after" in d.value.columns)
    assert len(back) == len(gemini) and set(back["model_after"]) == {"GEMINI"}
    at = confirm(at, "GROK did not help")
    assert not at.exception and not at.error
    rows, audits = state(models_db)
    assert {(a, c) for a, c, m, _ in rows if m == "GEMINI"} == gemini
    assert audits == audits_before + 2 * len(gemini)


def test_clearing_a_preference_deletes_its_row_and_the_list_leaves_out_supergroups(open_page, models_db):
    rows_before, audits_before = state(models_db)
    at = tuning(open_page, **{"Running on": "DEEPSEEK", "At least this many messages in the range": 0})
    listed = at.dataframe[0].value
    at = preview(at, "default")
    shown = next(d.value for d in at.dataframe if "model_after" in d.value.columns)
    assert set(shown["model_after"]) == {"default"} and len(shown) == len(listed)
    at = confirm(at, "back to the default")
    rows, audits = state(models_db)
    assert len(rows) == len(rows_before) - len(shown) and audits == audits_before + len(shown)
    at = button(at, "Undo the last change").click().run()
    at = confirm(at, "restore")
    assert state(models_db)[0].__len__() == len(rows_before)


def test_a_supergroup_id_is_refused_with_an_explanation_and_nothing_changes(open_page, models_db):
    before = state(models_db)
    at = open_page("model_tuning")
    next(c for c in at.get("button_group") if c.label == "Choose chats").set_value("One chat")
    at = at.run()
    next(t for t in at.text_input if t.label == "Chat id").input("-1001234567890")
    at = preview(at.run(), "GROK")
    assert any("INTEGER" in e.value and "supergroup" in e.value for e in at.error)
    assert state(models_db) == before


def test_an_empty_selection_is_refused(open_page, models_db):
    before = state(models_db)
    at = tuning(open_page, **{"At least this many messages in the range": 10**9})
    at = preview(at, "GROK")
    assert any("Nothing selected" in e.value for e in at.error)
    assert state(models_db) == before


def test_a_row_changed_after_the_preview_stops_the_whole_batch(open_page, models_db):
    at = tuning(open_page, **{"Running on": "DEEPSEEK", "At least this many messages in the range": 0})
    at = preview(at, "OPENAI")
    shown = next(d.value for d in at.dataframe if "model_after" in d.value.columns)
    assert len(shown) >= 2
    chat_id = int(shown["chat_id"].iloc[-1])
    engine = admin_engine(models_db)
    with engine.connect() as conn:
        agent_id = conn.execute(
            sa.text("select agent_id from model_preferences where chat_id = :c and model_type = 'DEEPSEEK'"),
            {"c": chat_id},
        ).scalar_one()
    with engine.begin() as conn:  # someone else, in Telegram, meanwhile
        conn.execute(
            sa.text(
                "update model_preferences set model_type = 'GROK', updated_at = now()"
                " where agent_id = :a and chat_id = :c"
            ),
            {"a": agent_id, "c": chat_id},
        )
    engine.dispose()
    before = state(models_db)
    at = confirm(at, "back to the default")
    assert any("changed by someone else" in e.value and str(chat_id) in e.value for e in at.error)
    assert state(models_db) == before
