"""The People page in AppTest on the installed fixture (plus a linked wallet): the list, a
person's page with their chats, pseudonyms for viewers, real names for an admin who asks, and
bad person ids."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from dashboard import views
from tests import fixture_data as fx
from tests.accounts import signed_in
from tests.databases import prepared

ROOT = Path(__file__).resolve().parent.parent
WALLET = "0xAbCdEf0123456789abcdef0123456789ABCDEF01"


def _link_wallet(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "insert into user_data (wallet_address, telegram_id, username, first_name, token_balance)"
                " values (:wallet, 501, 'ana', 'Ana', '12.5')"
            ),
            {"wallet": WALLET},
        )


@pytest.fixture(scope="module")
def people_url(new_database) -> str:
    return prepared(new_database("people_page"), seed=_link_wallet)


@pytest.fixture
def people(monkeypatch, people_url):
    monkeypatch.setenv("DATABASE_URL", people_url)
    monkeypatch.delenv("DATABASE_READ_URL", raising=False)
    views.clear_cache()

    def open_page(role: str = "viewer", **query) -> AppTest:
        at = signed_in(AppTest.from_file(str(ROOT / "app.py"), default_timeout=60), role)
        at.run()
        at.switch_page("app_pages/people.py")
        at.query_params.update(query)
        return at.run()

    return open_page


def _everything_shown(at: AppTest) -> str:
    tables = "\n".join(frame.value.to_csv() for frame in at.dataframe)
    texts = [t.value for t in at.text] + [m.value for m in at.markdown] + [c.value for c in at.caption]
    return tables + "\n".join(str(t) for t in texts)


def test_viewer_sees_pseudonymised_people_with_masked_wallets(people):
    at = people("viewer", range="all")
    assert not at.exception
    frame = at.dataframe[0].value
    # 501 wrote 4 messages, 502 wrote 3 (one older than any range: the list is all time).
    assert frame["link"].tolist()[:2] == ["/people?person=501", "/people?person=502"]
    shown = _everything_shown(at)
    for name in ("Ana", "Борис", "さくら", "omar", "Zoë", WALLET):
        assert name not in shown
    assert "Person " in shown and "0xAbCd…EF01" in shown
    toggle = next(t for t in at.toggle if t.label == "Pseudonymise people")
    assert toggle.disabled and toggle.value


def test_admin_can_show_real_names_and_wallets(people):
    at = people("admin", range="all")
    toggle = next(t for t in at.toggle if t.label == "Pseudonymise people")
    assert not toggle.disabled
    at = toggle.set_value(False).run()
    shown = _everything_shown(at)
    assert "Ana" in shown and "Борис" in shown and WALLET in shown


def test_a_persons_page_lists_their_chats(people):
    at = people("viewer", person="502", range="all")
    assert not at.exception
    assert at.subheader[0].value.startswith("Person ")
    assert "Борис" not in _everything_shown(at)
    chats = at.dataframe[0].value
    assert chats["link"].tolist() == [f"/conversations?chat={fx.GROUP_CHAT}"]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Messages"] == "3"  # user messages in the group, all time
    assert metrics["Chats"] == "1"


@pytest.mark.parametrize(
    ("person", "shown"),
    [
        ("bob", "not a Telegram user id"),
        ("-5", "not a Telegram user id"),
        ("9" * 30, "not a Telegram user id"),
        ("424242", "Nobody with Telegram id 424242"),
    ],
)
def test_bad_or_unknown_person_ids_give_a_notice(people, person, shown):
    at = people("viewer", person=person)
    assert not at.exception
    notices = [w.value for w in at.warning] + [i.value for i in at.info]
    assert any(shown in n.replace("\\", "") for n in notices), notices
