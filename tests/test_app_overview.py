"""The Overview page rendered by Streamlit's AppTest against real databases."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from dashboard import views
from dashboard.db import admin_engine
from tests import fixture_data as fx
from tests.accounts import signed_in

APP = str(Path(__file__).resolve().parent.parent / "app.py")


@pytest.fixture
def app_on(monkeypatch):
    """AppTest for app.py with DATABASE_URL pointing at the given database."""

    def make(url: str, **query) -> AppTest:
        monkeypatch.setenv("DATABASE_URL", url)
        monkeypatch.delenv("DATABASE_READ_URL", raising=False)
        views.clear_cache()
        at = signed_in(AppTest.from_file(APP, default_timeout=60))
        at.query_params.update(query)
        return at.run()

    return make


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_overview_shows_fixture_kpis(app_on, fixture_db):
    week = {"range": "custom", "from": "2026-02-23", "to": "2026-03-01", "tz": "UTC"}
    at = app_on(fixture_db, **week)
    assert not at.exception
    values = metrics(at)
    assert values["Messages"] == "14"
    assert values["Active chats"] == "3"
    assert values["Active users"] == "5"
    assert values["Active agents"] == "3"
    assert values["Commands run"] == "7"
    assert values["Command success"] == "71.4%"
    # Against the previous 7 days: 4 messages then, 14 now.
    assert {m.label: m.delta for m in at.metric}["Messages"] == "+250.0%"
    assert len(at.get("plotly_chart")) == 2
    assert len(at.dataframe) == 2
    assert any("Rollups are not installed" in c.value for c in at.sidebar.caption)


def test_overview_on_demo_data_matches_pandas(app_on, demo_db):
    at = app_on(demo_db, range="7d")
    assert not at.exception
    engine = admin_engine(demo_db)
    with engine.connect() as conn:
        raw = pd.read_sql(
            sa.text("select chat_id, user_id, role, agent_id, timestamp from chat_messages"), conn
        )
    engine.dispose()
    # Independent of the views: convert each epoch by its magnitude in pandas.
    ms = raw["timestamp"].where(raw["timestamp"] > 1e11, raw["timestamp"] * 1000)
    end = pd.Timestamp.now(tz="UTC").floor("h") + pd.Timedelta(hours=1)
    start = end - timedelta(days=7)
    window = raw[(ms >= start.value // 10**6) & (ms < end.value // 10**6)]
    values = metrics(at)
    assert values["Messages"] == f"{len(window):,}"
    assert values["Active chats"] == f"{window['chat_id'].nunique():,}"
    assert values["Active users"] == f"{window.loc[window['role'] == 'user', 'user_id'].nunique():,}"
    assert len(window) > 0


def test_overview_agent_filter_from_url(app_on, fixture_db):
    at = app_on(fixture_db, range="custom", **{"from": "2026-02-23", "to": "2026-03-01"}, agent=fx.BETA)
    assert not at.exception
    assert metrics(at)["Messages"] == "6"  # 4 in the group, 2 in a private chat
    assert metrics(at)["Active agents"] == "1"


def test_unknown_agent_and_bad_dates_in_url_give_notices(app_on, fixture_db):
    at = app_on(fixture_db, range="custom", **{"from": "2026-03-01", "to": "not-a-date"}, agent="nobody")
    assert not at.exception
    notices = " ".join(i.value for i in at.info)
    assert "not a date" in notices
    assert "Unknown agent 'nobody'" in notices


def test_legacy_schema_degrades_to_notices(app_on, legacy_schema_db):
    at = app_on(legacy_schema_db, range="7d")
    assert not at.exception
    notices = " ".join(i.value for i in at.info)
    assert "column chat_messages.agent_id" in notices
    assert not at.error


def test_refresh_reloads_one_view(app_on, fixture_db):
    at = app_on(fixture_db, range="7d")
    ages = [c.value for c in at.caption if c.value.startswith("Data as of")]
    assert len(ages) == 6  # two KPI rows, two charts, two tables
    before = views._generations.get("top_chats", 0)
    at.button(key="refresh-top_chats").click().run()
    assert not at.exception
    assert views._generations["top_chats"] == before + 1
