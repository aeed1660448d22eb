"""The test session's accounts (written to a file named by DASHBOARD_ACCOUNTS_FILE in conftest)
and a way to start an AppTest already signed in."""

from __future__ import annotations

import time

from streamlit.testing.v1 import AppTest

from dashboard.auth import User
from dashboard.signin import SESSION_KEY

ACCOUNTS = {
    "admin": {"username": "ada", "password": "admin-password-1"},
    "viewer": {"username": "vic", "password": "viewer-password-1"},
}


def signed_in(at: AppTest, role: str = "admin") -> AppTest:
    """`at` with a session signed in as the test account of `role`, as the sign-in form leaves it."""
    at.session_state[SESSION_KEY] = User(ACCOUNTS[role]["username"], role, time.time())
    return at
