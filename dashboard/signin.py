"""The sign-in gate of the app: who is signed in, the sign-in form, signing out, the cookie.

Rules live in dashboard.auth; this module is the Streamlit side of them.
"""

from __future__ import annotations

import json
import os
import time

import streamlit as st

from dashboard import auth
from dashboard.config import ConfigError, load_settings

COOKIE_NAME = "lillo_dash_session"
SESSION_KEY = "_lillo_dash_user"
_COOKIE_TO_SET = "_lillo_dash_set_cookie"
_COOKIE_TO_CLEAR = "_lillo_dash_clear_cookie"


def _secrets() -> dict:
    try:
        return {key: st.secrets[key] for key in st.secrets}
    except Exception:  # noqa: BLE001 - no secrets file is the normal case
        return {}


def auth_config() -> auth.AuthConfig:
    """The sign-in configuration; raises auth.AuthError or ConfigError naming a bad setting."""
    settings = load_settings()
    if settings.embedded:
        auth.ensure_demo_accounts(settings.data_dir)
    return auth.load_auth_config(_secrets(), os.environ, settings.data_dir, embedded=settings.embedded)


def _oidc_user(config: auth.AuthConfig) -> auth.User | None:
    if not (config.oidc_enabled and st.user.is_logged_in):
        return None
    email = str(st.user.get("email") or "")
    if not email:
        return None
    signed_in_at = float(
        st.user.get("iat") or st.session_state.setdefault("_lillo_dash_oidc_at", time.time())
    )
    return auth.User(email, config.oidc_role(email) or "", signed_in_at, "oidc")


def current_user(config: auth.AuthConfig | None = None) -> auth.User | None:
    """The signed-in person of this session, with the role the configuration gives them now."""
    config = config or auth_config()
    state = auth.AuthState(config.data_dir)
    now = time.time()
    kept = st.session_state.get(SESSION_KEY)
    user = auth.still_signed_in(config, state, kept, now) if isinstance(kept, auth.User) else None
    if user is None and not st.session_state.get(_COOKIE_TO_CLEAR):
        user = auth.user_from_token(config, state, st.context.cookies.get(COOKIE_NAME), now)
    if user is None:
        user = _oidc_user(config)
        if user is not None and not user.role:
            st.error(f"{user.name} has no role in this dashboard. Ask an admin to add you to [oidc_roles].")
            if st.button("Sign out"):
                st.logout()
            st.stop()
    if user is None:
        st.session_state.pop(SESSION_KEY, None)
    else:
        st.session_state[SESSION_KEY] = user
    return user


def _write_cookie(value: str, max_age_s: int) -> None:
    """Set (or with max_age 0, delete) the sign-in cookie in the browser. Streamlit has no
    server-side way to set a cookie, so a zero-height component does it in the page."""
    # Only our own constant text and the token (URL-safe base64) go into this HTML.
    cookie = f"{COOKIE_NAME}={value}; Path=/; Max-Age={max_age_s}; SameSite=Strict"
    st.iframe(
        "<script>"
        f"const cookie = {json.dumps(cookie)};"
        'const secure = window.parent.location.protocol === "https:" ? "; Secure" : "";'
        "window.parent.document.cookie = cookie + secure;"
        "</script>",
        height=1,
    )


def require_user() -> auth.User:
    """The signed-in user; otherwise shows the sign-in page and stops the run."""
    try:
        config = auth_config()
    except (auth.AuthError, ConfigError) as error:
        st.title("Lillo Dashboard")
        st.error(f"Sign-in is misconfigured: {error}", icon=":material/lock:")
        st.stop()
    user = current_user(config)
    if user is not None:
        token = st.session_state.pop(_COOKIE_TO_SET, None)
        if token:
            with st.sidebar:
                _write_cookie(token, int(config.session_hours * 3600))
        return user
    # The sign-in form is the only page a signed-out person can navigate to, whatever the URL asks.
    st.navigation(
        [
            st.Page(
                lambda: _sign_in_page(config), title="Sign in", icon=":material/login:", url_path="sign-in"
            )
        ],
        position="hidden",
    ).run()
    st.stop()


def _sign_in_page(config: auth.AuthConfig) -> None:
    if st.session_state.pop(_COOKIE_TO_CLEAR, False):
        _write_cookie("", 0)
    st.title("Lillo Dashboard")
    st.caption("Sign in to see the dashboard.")
    left, _ = st.columns([2, 3])
    with left:
        with st.form("sign_in"):
            username = st.text_input("Username", max_chars=auth.MAX_USERNAME, autocomplete="username")
            password = st.text_input(
                "Password", type="password", max_chars=auth.MAX_PASSWORD, autocomplete="current-password"
            )
            submitted = st.form_submit_button("Sign in", type="primary")
        if submitted:
            try:
                user = auth.authenticate(
                    config, auth.AuthState(config.data_dir), username, password, time.time()
                )
            except auth.SignInRefused as refused:
                st.error(str(refused), icon=":material/lock:")
            else:
                st.session_state[SESSION_KEY] = user
                st.session_state[_COOKIE_TO_SET] = auth.session_token(config, user)
                st.rerun()
        if config.oidc_enabled:
            st.divider()
            if st.button("Sign in with your organisation's account"):
                st.login()
        if not config.accounts and not config.oidc_enabled:
            st.info(
                "No accounts are configured. Add `[accounts.<name>]` with a `password_hash` "
                "(`python -m dashboard hash-password`) and a `role` to .streamlit/secrets.toml.",
                icon=":material/person_add:",
            )


def _sign_out(user: auth.User) -> None:
    config = auth_config()
    auth.AuthState(config.data_dir).sign_out(user.name, time.time())
    st.session_state.pop(SESSION_KEY, None)
    st.session_state[_COOKIE_TO_CLEAR] = True
    if user.via == "oidc":
        st.logout()


def sign_out_control(user: auth.User) -> None:
    """The sidebar's account line and sign-out button: signing out ends every session of the
    account, in every tab and browser."""
    st.sidebar.caption(f":material/person: {user.name} · {user.role}")
    st.sidebar.button("Sign out", icon=":material/logout:", on_click=_sign_out, args=(user,))


def require_admin() -> auth.User:
    """The signed-in admin; anyone else sees a refusal and the run stops (pages for admins are
    also left out of a viewer's navigation; this is the second lock)."""
    user = require_user()
    if not user.is_admin:
        st.error("This page is for admins only.", icon=":material/block:")
        st.stop()
    return user
