"""Sign-in rules (dashboard.auth): password checks, back-off, the signed cookie, sign-out
everywhere, roles from the configuration, and the accounts files."""

from __future__ import annotations

import os
import stat

import pytest

from dashboard import auth
from tests.accounts import ACCOUNTS

NOW = 1_800_000_000.0


@pytest.fixture
def config(tmp_path) -> auth.AuthConfig:
    path = tmp_path / "accounts.toml"
    auth.write_accounts_file(path, ACCOUNTS)
    return auth.load_auth_config({}, {"DASHBOARD_ACCOUNTS_FILE": str(path)}, tmp_path, embedded=False)


@pytest.fixture
def state(config) -> auth.AuthState:
    return auth.AuthState(config.data_dir)


def sign_in(config, state, role="admin", *, password=None, now=NOW, username=None) -> auth.User:
    account = ACCOUNTS[role]
    return auth.authenticate(
        config, state, username or account["username"], password or account["password"], now
    )


def test_right_password_signs_in_with_the_configured_role(config, state):
    user = sign_in(config, state, "viewer")
    assert (user.name, user.role, user.signed_in_at) == ("vic", "viewer", NOW)
    assert sign_in(config, state, "admin", username="  ADA ").role == "admin"


def test_wrong_password_and_unknown_user_get_the_same_message(config, state):
    with pytest.raises(auth.SignInRefused) as wrong_password:
        sign_in(config, state, password="not-it")
    with pytest.raises(auth.SignInRefused) as unknown_user:
        sign_in(config, state, username="nobody", password="not-it")
    assert str(wrong_password.value) == str(unknown_user.value) == "Wrong username or password."


def test_stored_passwords_are_salted_argon2_hashes(config):
    hashes = [account.password_hash for account in config.accounts.values()]
    assert all(h.startswith("$argon2id$") for h in hashes)
    assert auth.hash_password("same") != auth.hash_password("same")


@pytest.mark.parametrize("username", ["ada", "nobody"])
def test_five_failures_make_further_tries_wait_30_s(config, state, username):
    for attempt in range(5):
        with pytest.raises(auth.SignInRefused, match="Wrong username or password"):
            sign_in(config, state, username=username, password="bad", now=NOW + attempt)
    # Even the right password waits: the message is the same for accounts that do not exist.
    with pytest.raises(auth.SignInRefused, match=r"Too many failed sign-ins .* Try again in 30 s"):
        sign_in(config, state, username=username, now=NOW + 4.5)
    assert state.wait_s(auth.account_key(username), NOW + 4) == pytest.approx(30)
    assert state.wait_s(auth.account_key(username), NOW + 4 + 30) == 0
    if username == "ada":
        assert sign_in(config, state, now=NOW + 35).name == "ada"
        assert state.wait_s("ada", NOW + 35) == 0  # a success clears the count


def test_back_off_doubles_after_each_further_failure(config, state):
    for attempt in range(6):
        state.record_failure("ada", NOW + attempt)
    assert state.wait_s("ada", NOW + 5) == pytest.approx(60)


def test_failures_of_one_account_do_not_lock_another(config, state):
    for _ in range(6):
        state.record_failure("ada", NOW)
    assert sign_in(config, state, "viewer").name == "vic"


def test_cookie_token_round_trip(config, state):
    user = sign_in(config, state)
    token = auth.session_token(config, user)
    assert auth.user_from_token(config, state, token, NOW + 60) == user


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # signature changed
        lambda t: t.replace(t.split(".")[0], t.split(".")[0][:-1] + "x"),  # payload changed
        lambda t: t.split(".")[0],  # no signature
        lambda t: "",
        lambda t: "not a token",
        lambda t: "x" * 10_000,
        lambda t: "%%%.###",
    ],
)
def test_forged_or_damaged_tokens_are_refused(config, state, tamper):
    token = auth.session_token(config, sign_in(config, state))
    assert auth.user_from_token(config, state, tamper(token), NOW + 60) is None


def test_token_signed_with_another_key_is_refused(config, state, tmp_path):
    token = auth.session_token(config, sign_in(config, state))
    other = auth.AuthConfig(accounts=config.accounts, cookie_key=b"another key", data_dir=tmp_path)
    assert auth.user_from_token(other, state, token, NOW + 60) is None


def test_sign_in_expires_after_session_hours(config, state):
    user = sign_in(config, state)
    token = auth.session_token(config, user)
    hours = config.session_hours
    assert hours == 8
    assert auth.user_from_token(config, state, token, NOW + hours * 3600 - 1) is not None
    assert auth.user_from_token(config, state, token, NOW + hours * 3600 + 1) is None
    assert auth.still_signed_in(config, state, user, NOW + hours * 3600 + 1) is None


def test_signing_out_ends_every_earlier_sign_in_of_the_account(config, state):
    first_tab = sign_in(config, state, now=NOW)
    other_browser = sign_in(config, state, now=NOW + 10)
    viewer = sign_in(config, state, "viewer", now=NOW + 10)
    token = auth.session_token(config, other_browser)
    state.sign_out("ADA", NOW + 20)
    assert auth.still_signed_in(config, state, first_tab, NOW + 30) is None
    assert auth.user_from_token(config, state, token, NOW + 30) is None
    assert auth.still_signed_in(config, state, viewer, NOW + 30) == viewer
    assert auth.still_signed_in(config, state, sign_in(config, state, now=NOW + 40), NOW + 50) is not None


def test_role_comes_from_the_configuration_not_from_the_user_object(config, state):
    viewer = sign_in(config, state, "viewer")
    claims_admin = auth.User(viewer.name, "admin", viewer.signed_in_at)
    assert auth.verified_role(config, state, claims_admin, NOW + 1) == "viewer"
    with pytest.raises(auth.NotAllowed):
        auth.require_admin(config, state, claims_admin)
    with pytest.raises(auth.NotAllowed):
        auth.require_admin(config, state, None)
    ghost = auth.User("somebody", "admin", NOW)
    assert auth.verified_role(config, state, ghost, NOW + 1) is None


def test_oidc_roles_map_emails_with_a_default(tmp_path):
    config = auth.load_auth_config(
        {"auth": {"client_id": "x"}, "oidc_roles": {"Boss@Example.com": "admin", "*": "viewer"}},
        {},
        tmp_path,
        embedded=False,
    )
    assert config.oidc_enabled
    assert config.oidc_role("boss@example.com") == "admin"
    assert config.oidc_role("someone@else.org") == "viewer"
    no_default = auth.load_auth_config(
        {"auth": {}, "oidc_roles": {"a@b.c": "viewer"}}, {}, tmp_path, embedded=False
    )
    assert no_default.oidc_role("x@y.z") is None


@pytest.mark.parametrize(
    ("secrets", "environ", "message"),
    [
        ({"accounts": {"eve": {"password_hash": "x", "role": "owner"}}}, {}, "role must be one of"),
        ({"accounts": {"eve": {"role": "admin"}}}, {}, "has no password_hash"),
        ({"dashboard_auth": {"session_hours": "forever"}}, {}, "session_hours must be a number"),
        ({"dashboard_auth": {"session_hours": 0}}, {}, "between 0 and 720"),
        ({"oidc_roles": {"a@b.c": "root"}}, {}, "role must be one of"),
        ({}, {"DASHBOARD_ACCOUNTS_FILE": "/nonexistent/accounts.toml"}, "does not exist"),
    ],
)
def test_bad_sign_in_settings_are_named(tmp_path, secrets, environ, message):
    with pytest.raises(auth.AuthError, match=message):
        auth.load_auth_config(secrets, environ, tmp_path, embedded=False)


def test_session_hours_is_configurable(tmp_path):
    config = auth.load_auth_config({"dashboard_auth": {"session_hours": 2}}, {}, tmp_path, embedded=False)
    assert config.session_hours == 2


def test_demo_accounts_are_made_once_private_and_loaded_when_embedded(tmp_path):
    made = auth.ensure_demo_accounts(tmp_path)
    assert set(made) == {"admin", "viewer"}
    assert made["admin"]["password"] != made["viewer"]["password"]
    assert len(made["admin"]["password"]) >= 16
    path = tmp_path / auth.DEMO_CREDENTIALS_FILE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert auth.ensure_demo_accounts(tmp_path) == made  # kept, not remade
    config = auth.load_auth_config({}, {}, tmp_path, embedded=True)
    state = auth.AuthState(tmp_path)
    for role, account in made.items():
        assert auth.authenticate(config, state, account["username"], account["password"], NOW).role == role
    # Against a configured database the demo accounts are not accepted.
    assert auth.load_auth_config({}, {}, tmp_path, embedded=False).accounts == {}


def test_cookie_key_is_generated_once_and_private(tmp_path):
    first = auth.load_auth_config({}, {}, tmp_path, embedded=False).cookie_key
    again = auth.load_auth_config({}, {}, tmp_path, embedded=False).cookie_key
    assert first == again and len(first) >= 48
    assert stat.S_IMODE(os.stat(tmp_path / auth.COOKIE_KEY_FILE).st_mode) == 0o600
    configured = auth.load_auth_config(
        {"dashboard_auth": {"cookie_key": "k" * 40}}, {}, tmp_path, embedded=False
    )
    assert configured.cookie_key == b"k" * 40
