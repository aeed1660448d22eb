"""dashboard.figure_cache: a figure is reused exactly when its builder, the values it closes over
and the rows are equal by value."""

import pandas as pd
import pytest

from dashboard import figure_cache


@pytest.fixture(autouse=True)
def empty_cache():
    figure_cache.clear()
    CALLS.clear()
    yield
    figure_cache.clear()


def _frame(n: int = 3) -> pd.DataFrame:
    return pd.DataFrame({"bucket": list(range(n)), "n": [10 * i for i in range(n)]})


CALLS: list[str] = []  # a global, not a closed-over value: builds are counted across builders


def _builder(bucket: str):
    def build(frame):
        CALLS.append(bucket)
        return {"bucket": bucket, "rows": len(frame)}

    return build


def test_equal_rows_and_closure_values_reuse_the_figure():
    first = figure_cache.figure(_builder("day"), _frame())
    again = figure_cache.figure(_builder("day"), _frame())  # a new builder, equal values
    assert again is first and CALLS == ["day"]


@pytest.mark.parametrize(
    "change",
    [
        lambda: (_builder("week"), _frame()),  # another closed-over value
        lambda: (_builder("day"), _frame(4)),  # other rows
        lambda: (_builder("day"), _frame().assign(n=[0, 10, 21])),  # another value in a row
    ],
)
def test_anything_different_builds_afresh(change):
    first = figure_cache.figure(_builder("day"), _frame())
    build, frame = change()
    assert figure_cache.figure(build, frame) is not first


def test_a_builder_closing_over_an_object_without_a_value_is_never_reused():
    marker = object()
    calls = []

    def build(frame):
        calls.append(marker)
        return {}

    figure_cache.figure(build, _frame())
    figure_cache.figure(build, _frame())
    assert len(calls) == 2


def test_the_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(figure_cache, "MAX_FIGURES", 2)
    for bucket in ("a", "b", "c"):
        figure_cache.figure(_builder(bucket), _frame())
    figure_cache.figure(_builder("a"), _frame())  # the oldest went
    assert CALLS == ["a", "b", "c", "a"]


def test_a_long_series_is_compared_by_every_value_not_by_its_shortened_repr():
    long = pd.Series(range(1000))
    changed = long.copy()
    changed[500] = -1  # the same head and tail: the same repr

    def builder(series):
        def build(frame):
            CALLS.append("series")
            return {"n": int(series.sum())}

        return build

    first = figure_cache.figure(builder(long), _frame())
    assert figure_cache.figure(builder(changed), _frame()) is not first
