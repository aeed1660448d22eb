"""The view loader and the epoch rule, on their own and on the real server."""

import pytest
import sqlalchemy as sa

from dashboard import views
from dashboard.views import MS_THRESHOLD, epoch_to_ms, expand_macros, parse_view


def test_epoch_rule_expands_once_per_call():
    sql = expand_macros("select epoch_ms(m.timestamp), epoch_ms( created )")
    assert sql.count("case when") == 2
    assert "m.timestamp > 100000000000" in sql and "created * 1000" in sql


def test_epoch_rule_ignores_anything_but_a_column():
    assert expand_macros("select epoch_ms(now())") == "select epoch_ms(now())"


@pytest.mark.parametrize(
    ("stored", "expected_ms"),
    [
        (1_700_000_000, 1_700_000_000_000),  # seconds (Telegram)
        (1_700_000_000_123, 1_700_000_000_123),  # milliseconds (Date.now())
        (MS_THRESHOLD, MS_THRESHOLD * 1000),  # the boundary itself counts as seconds
        (MS_THRESHOLD + 1, MS_THRESHOLD + 1),
        (0, 0),
    ],
)
def test_epoch_rule_in_sql_and_python_agree(reader, stored, expected_ms):
    got = reader.execute(
        sa.text(expand_macros("select epoch_ms(t.v) from (select cast(:v as bigint) as v) t")),
        {"v": stored},
    ).scalar_one()
    assert got == expected_ms == epoch_to_ms(stored)


def test_header_params_must_match_binds():
    text = "-- name: v\n-- params: :a\nselect :a, :b"
    with pytest.raises(ValueError, match="do not match"):
        parse_view("v", text)


def test_name_must_match_file():
    with pytest.raises(ValueError, match="must start with"):
        parse_view("v", "-- name: w\nselect 1")


def test_casts_are_not_binds():
    view = parse_view(
        "v", "-- name: v\n-- params: :x\n-- requires: agents(id, name), posts\nselect :x::text, a::int"
    )
    assert view.params == ("x",)
    assert view.requires == {"agents": ("id", "name"), "posts": ()}


@pytest.mark.parametrize("name", views.view_names())
def test_every_view_file_parses_and_documents_itself(name):
    view = views.load_view(name)
    assert view.description, f"{name}.sql needs a header line saying what one row is"
    assert view.requires, f"{name}.sql must say which tables and columns it needs"
    assert "select" in view.sql.lower()


def test_view_names_cannot_escape_the_folder():
    with pytest.raises(KeyError):
        views.load_view("../schema/001_lillo_tables")
