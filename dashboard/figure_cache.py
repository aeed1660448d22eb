"""Built plotly figures, kept for reuse: building one with plotly express costs 100 to 400 ms of the
server's CPU (validating every property of every trace), drawing a kept one about a tenth of that,
and most page runs draw the same rows as the run before (a rerun, another session, the same filters).

A figure is reused only when everything it was built from is equal by value: the builder's code,
the values it closes over, and the rows. A builder that closes over anything compared by identity
(an object without a value repr) simply builds afresh every time.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

import pandas as pd

MAX_FIGURES = 128

_figures: OrderedDict[Hashable, object] = OrderedDict()
_lock = threading.Lock()  # every session of the server shares the figures


def _fingerprint(value: object) -> Hashable | None:
    """A value-based key for `value`, or None when it has none (then nothing is reused)."""
    if isinstance(value, pd.Series):
        value = value.to_frame()
    if isinstance(value, pd.DataFrame):
        rows = pd.util.hash_pandas_object(value, index=True)
        return (
            "frame",
            tuple(map(str, value.columns)),
            tuple(map(str, value.dtypes)),
            int(rows.sum()),
            len(rows),
        )
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, tuple):
        parts = tuple(_fingerprint(v) for v in value)
        return None if any(p is None and v is not None for p, v in zip(parts, value, strict=True)) else parts
    text = repr(value)
    # An address says nothing about the value; "..." is a repr cut short (long arrays, frames).
    return None if " at 0x" in text or "..." in text else (type(value).__qualname__, text)


def _key(build: Callable[[pd.DataFrame], object], frame: pd.DataFrame) -> Hashable | None:
    code = getattr(build, "__code__", None)
    if code is None:
        return None
    cells = tuple(_fingerprint(cell.cell_contents) for cell in build.__closure__ or ())
    if any(cell is None for cell in cells):
        return None
    return (code.co_filename, code.co_firstlineno, code.co_code, cells, _fingerprint(frame))


def figure(build: Callable[[pd.DataFrame], object], frame: pd.DataFrame) -> object:
    """`build(frame)`, or the figure it built before from equal inputs. Callers must not change
    the figure they get (st.plotly_chart only reads it)."""
    key = _key(build, frame)
    if key is None:
        return build(frame)
    with _lock:
        if key in _figures:
            _figures.move_to_end(key)
            return _figures[key]
    built = build(frame)
    with _lock:
        _figures[key] = built
        while len(_figures) > MAX_FIGURES:
            _figures.popitem(last=False)
    return built


def clear() -> None:
    with _lock:
        _figures.clear()
