"""CSV export of what a table shows: every row the filters select, not only the visible page.

Text cells that a spreadsheet would run as a formula (starting with =, +, -, @, tab or carriage
return) get a leading apostrophe, so a hostile chat message cannot become a formula in Excel.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pandas as pd
import streamlit as st

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def _inert(value):
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV with a BOM (so spreadsheets read non-Latin text right), formulas defused."""
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(_inert)
    return safe.to_csv(index=False).encode("utf-8-sig")


def file_name(name: str, parts: dict[str, str], as_of: datetime) -> str:
    """'lillo_<name>_<key>-<value>…_asof-<UTC time>.csv', only file-safe characters."""
    pieces = [name] + [f"{key}-{value}" for key, value in parts.items() if value]
    slug = _UNSAFE_NAME.sub("_", "_".join(pieces)).strip("_")[:150]
    return f"lillo_{slug}_asof-{as_of.astimezone(UTC):%Y%m%dT%H%M%SZ}.csv"


def download_button(frame: pd.DataFrame, name: str, parts: dict[str, str], as_of: datetime) -> None:
    """A 'Download CSV' button for `frame` (all its rows), named after the filters and data age."""
    st.download_button(
        f"Download CSV ({len(frame):,} row{'' if len(frame) == 1 else 's'})",
        data=csv_bytes(frame),
        file_name=file_name(name, parts, as_of),
        mime="text/csv",
        icon=":material/download:",
        key=f"csv-{name}",
        on_click="ignore",
    )
