"""Settings from the environment (and .streamlit/secrets.toml when running inside Streamlit).

Environment variables win over secrets so that a deployment can override a checked-in default.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from zoneinfo import available_timezones

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SQL_DIR = PROJECT_ROOT / "sql"
DEFAULT_DATA_DIR = PROJECT_ROOT / "data"


class ConfigError(ValueError):
    """A setting has a value the dashboard cannot use; the message says which and why."""


@dataclass(frozen=True)
class Settings:
    database_url: str | None = None
    database_read_url: str | None = None
    timezone: str = "UTC"
    statement_timeout_ms: int = 15_000
    cache_ttl_s: int = 300
    cache_max_entries: int = 256
    data_dir: Path = field(default=DEFAULT_DATA_DIR)
    demo_scale: int = 200_000
    export_row_cap: int = 1_000_000

    @property
    def embedded(self) -> bool:
        """True when no database is configured and the dashboard runs on its own demo database."""
        return not self.database_url


def _secrets() -> dict:
    """Streamlit secrets as a plain dict; empty outside Streamlit or when no secrets file exists."""
    try:
        import streamlit as st

        # Without a file Streamlit looks for one (and raises) on every read: a page run reads the
        # settings several times, and under load that was 8% of the server's CPU.
        if not any(os.path.exists(path) for path in _secrets_files()):
            return {}
        return {key: st.secrets[key] for key in st.secrets}
    except Exception:  # noqa: BLE001 - no secrets file is the normal case, not an error
        return {}


@cache
def _secrets_files() -> tuple[str, ...]:
    # Read once: every read of a Streamlit option takes a lock all sessions share.
    from streamlit import config as streamlit_config

    return tuple(streamlit_config.get_option("secrets.files"))


def _int_setting(name: str, raw: str | int, minimum: int) -> int:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


@cache
def _zone_names() -> frozenset[str]:
    # `localtime` is the machine's own zone file, which PostgreSQL does not accept.
    return frozenset(available_timezones() - {"localtime"})


def known_timezone(name: str) -> bool:
    """Whether `name` is an IANA zone both Python and PostgreSQL know. Anything else (a path, a
    directory, a 100 kB string) never reaches the file system."""
    return name in _zone_names()


def validate_timezone(name: str) -> str:
    if not known_timezone(name):
        raise ConfigError(f"DASHBOARD_TZ {name[:60]!r} is not a known time zone (try UTC or Europe/Berlin)")
    return name


def load_settings(environ: dict[str, str] | None = None, secrets: dict | None = None) -> Settings:
    env = os.environ if environ is None else environ
    sec = _secrets() if secrets is None else secrets

    def get(name: str, default=None):
        return env.get(name) or sec.get(name) or sec.get(name.lower()) or default

    return Settings(
        database_url=get("DATABASE_URL"),
        database_read_url=get("DATABASE_READ_URL"),
        timezone=validate_timezone(get("DASHBOARD_TZ", "UTC")),
        statement_timeout_ms=_int_setting(
            "DASHBOARD_STATEMENT_TIMEOUT_MS", get("DASHBOARD_STATEMENT_TIMEOUT_MS", 15_000), 100
        ),
        cache_ttl_s=_int_setting("DASHBOARD_CACHE_TTL_S", get("DASHBOARD_CACHE_TTL_S", 300), 1),
        data_dir=Path(get("DASHBOARD_DATA_DIR", DEFAULT_DATA_DIR)),
        demo_scale=_int_setting("DASHBOARD_DEMO_SCALE", get("DASHBOARD_DEMO_SCALE", 200_000), 1_000),
        export_row_cap=_int_setting(
            "DASHBOARD_EXPORT_ROW_CAP", get("DASHBOARD_EXPORT_ROW_CAP", 1_000_000), 1
        ),
    )


def redact_url(url: str | None) -> str:
    """A database URL with its password replaced, safe to show or log."""
    if not url:
        return ""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparseable URL is shown as a placeholder, never raw
        return "<unparseable database URL>"
