"""The Models page's tables from view rows, on hand-made frames with the answers written out."""

import pandas as pd

from dashboard import model_figures as mf

MIX = pd.DataFrame(
    [
        ("a1", "OPENAI", 10, 8, 4, 300),
        ("a1", "GEMINI", 2, 0, 1, 100),
        ("a2", "OPENAI", 5, 5, 5, 600),
        ("a2", "MISTRAL", 1, 0, 0, 0),  # a model Lillo does not document yet
    ],
    columns=["agent_id", "model_type", "n_chats", "n_default_chats", "n_active_chats", "n_messages"],
)


def test_overall_mix_sums_agents_lists_every_model_and_shares_traffic():
    overall = mf.overall_mix(MIX)
    assert list(overall["model_type"]) == ["OPENAI", "GEMINI", "GROK", "DEEPSEEK", "MISTRAL"]
    assert list(overall["n_chats"]) == [15, 2, 0, 0, 1]
    assert list(overall["n_default_chats"]) == [13, 0, 0, 0, 0]
    assert list(overall["traffic_share"]) == [0.9, 0.1, 0.0, 0.0, 0.0]


def test_mix_by_agent_puts_the_busiest_agent_first_by_name():
    table = mf.mix_by_agent(MIX, {"a1": "Alpha"})
    assert list(table.columns) == ["Agent", "OPENAI", "GEMINI", "MISTRAL"]
    assert table.to_dict("records") == [
        {"Agent": "Alpha", "OPENAI": 10, "GEMINI": 2, "MISTRAL": 0},
        {"Agent": "a2", "OPENAI": 5, "GEMINI": 0, "MISTRAL": 1},
    ]


def test_comparison_in_model_order_with_its_evidence_and_whole_milliseconds():
    comparison = pd.DataFrame(
        {
            "model_type": ["GROK", "OPENAI"],
            "n_chats": [1, 12],
            "n_replies": [1, 340],
            "n_commands": [0, None],
            "n_new_people": [1, 3],
            "median_ms": [1234.5, None],
            "p90_ms": [10.4, 2.6],
        }
    )
    shown = mf.with_evidence(comparison)
    assert list(shown["model_type"]) == ["OPENAI", "GROK"]
    assert list(shown["evidence"]) == [
        "12 chats · 340 replies · 0 commands · 3 new people",
        "1 chat · 1 reply · 0 commands · 1 new person — thin",
    ]
    assert shown["median_ms"].tolist()[1] == 1234.0 and pd.isna(shown["median_ms"].tolist()[0])
    assert shown["p90_ms"].tolist() == [3.0, 10.0]


def test_misconfigurations_link_to_the_chat_and_changes_get_names_and_local_times():
    frame = pd.DataFrame({"agent_id": ["a1"], "chat_id": [-42], "last_ms": [1_700_000_000_000]})
    linked = mf.linked_misconfigurations(frame, {"a1": "Alpha"}, "Asia/Tokyo")
    assert linked["link"].tolist() == ["/conversations?chat=-42"]
    assert linked["agent_name"].tolist() == ["Alpha"]
    assert str(linked["last_at"].iloc[0]) == "2023-11-15 07:13:20+09:00"
    changes = pd.DataFrame(
        {"agent_id": ["zz"], "chat_id": [7], "changed_at": [pd.Timestamp("2026-11-01 12:00", tz="UTC")]}
    )
    named = mf.named_changes(changes, {}, "Europe/Berlin")
    assert named["agent_name"].tolist() == ["zz"]
    assert str(named["changed_at"].iloc[0]) == "2026-11-01 13:00:00+01:00"
    assert mf.effect_params(changes.iloc[0], 14) == {
        "agent_id": "zz",
        "chat_id": 7,
        "changed_at_ms": 1_793_534_400_000,  # 2026-11-01 12:00 UTC
        "window_days": 14,
    }
