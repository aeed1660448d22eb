"""Sign-in, roles and the guards around them (no Streamlit here: see dashboard/signin.py).

Accounts:
- password accounts: `[accounts.<username>]` tables with `password_hash` (argon2, made by
  `python -m dashboard hash-password`) and `role` in .streamlit/secrets.toml, or the same tables in
  the file named by DASHBOARD_ACCOUNTS_FILE. The embedded demo writes such a file,
  data/demo_credentials.toml, with an `admin` and a `viewer` account.
- OIDC accounts through `st.login`, when secrets have an `[auth]` section: the signed-in email's
  role comes from `[oidc_roles]` (`"*"` for anyone else); without a role there is no access.

A password sign-in is kept in a signed cookie (HMAC-SHA256 over user and times) so it survives
reloads and new tabs for `session_hours`. Signing out records the time for the account; every
sign-in of that account from before then is refused, in every tab and browser. That record and the
failed sign-in counts live in a small JSON file in the data directory (shared by the server's
sessions; replicas behind a load balancer need that directory shared).
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import hmac
import json
import math
import os
import re
import secrets
import time
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

ROLES = ("viewer", "admin")
DEFAULT_SESSION_HOURS = 8.0
FAILURES_BEFORE_WAIT = 5
FIRST_WAIT_S = 30
MAX_WAIT_S = 15 * 60
MAX_USERNAME = 255
MAX_PASSWORD = 1024
DEMO_CREDENTIALS_FILE = "demo_credentials.toml"
STATE_FILE = "auth_state.json"
COOKIE_KEY_FILE = "cookie_key"

_hasher = PasswordHasher()
# Verified when the username is unknown, so that a wrong username costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class AuthError(Exception):
    """A sign-in or permission problem; the message is meant for the person."""


class SignInRefused(AuthError):
    pass


class NotAllowed(AuthError):
    pass


@dataclass(frozen=True)
class Account:
    username: str
    role: str
    password_hash: str


@dataclass(frozen=True)
class User:
    """A signed-in person. `role` is re-checked against the configuration by `verified_role`."""

    name: str
    role: str
    signed_in_at: float
    via: str = "password"  # or "oidc"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True)
class AuthConfig:
    accounts: Mapping[str, Account] = field(default_factory=dict)
    oidc_roles: Mapping[str, str] = field(default_factory=dict)
    oidc_enabled: bool = False
    session_hours: float = DEFAULT_SESSION_HOURS
    cookie_key: bytes = b""
    data_dir: Path = Path("data")

    def account(self, username: str) -> Account | None:
        return self.accounts.get(account_key(username))

    def oidc_role(self, email: str) -> str | None:
        lowered = email.strip().lower()
        return self.oidc_roles.get(lowered) or self.oidc_roles.get("*")


def account_key(username: str) -> str:
    """Usernames are matched without case and surrounding spaces."""
    return username.strip().casefold()[:MAX_USERNAME]


def hash_password(password: str) -> str:
    if not password:
        raise ValueError("the password must not be empty")
    return _hasher.hash(password)


def _checked_role(role: object, where: str) -> str:
    if role not in ROLES:
        raise AuthError(f"{where}: role must be one of {', '.join(ROLES)}, got {role!r}")
    return str(role)


def accounts_from_tables(tables: Mapping, where: str) -> dict[str, Account]:
    """Accounts from TOML tables `{name: {password_hash, role[, username]}}`."""
    found = {}
    for name, table in tables.items():
        if not isinstance(table, Mapping):
            continue
        username = str(table.get("username", name))
        password_hash = table.get("password_hash")
        if not password_hash:
            raise AuthError(f"{where}: account {username!r} has no password_hash")
        found[account_key(username)] = Account(
            username, _checked_role(table.get("role"), f"{where}, account {username!r}"), str(password_hash)
        )
    return found


def _cookie_key(data_dir: Path, configured: str | None) -> bytes:
    if configured:
        return configured.encode()
    path = data_dir / COOKIE_KEY_FILE
    with contextlib.suppress(FileNotFoundError):
        return path.read_bytes().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48).encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key


def load_auth_config(
    secrets_: Mapping, environ: Mapping[str, str], data_dir: Path, *, embedded: bool
) -> AuthConfig:
    """The accounts and sign-in settings; raises AuthError naming the bad setting."""
    options = secrets_.get("dashboard_auth", {}) or {}
    accounts = accounts_from_tables(secrets_.get("accounts", {}) or {}, "secrets [accounts]")
    accounts_file = environ.get("DASHBOARD_ACCOUNTS_FILE") or (
        str(data_dir / DEMO_CREDENTIALS_FILE) if embedded else None
    )
    if accounts_file:
        path = Path(accounts_file)
        if path.is_file():
            try:
                tables = tomllib.loads(path.read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError as error:
                raise AuthError(f"{path} is not valid TOML: {error}") from None
            accounts |= accounts_from_tables(tables, str(path))
        elif environ.get("DASHBOARD_ACCOUNTS_FILE"):
            raise AuthError(f"DASHBOARD_ACCOUNTS_FILE {path} does not exist")
    raw_hours = environ.get("DASHBOARD_SESSION_HOURS") or options.get("session_hours", DEFAULT_SESSION_HOURS)
    try:
        session_hours = float(raw_hours)
    except (TypeError, ValueError):
        raise AuthError(f"session_hours must be a number of hours, got {raw_hours!r}") from None
    if not 0 < session_hours <= 24 * 30:
        raise AuthError(f"session_hours must be between 0 and 720, got {session_hours}")
    oidc_roles = {
        str(email).strip().lower(): _checked_role(role, f"[oidc_roles] {email!r}")
        for email, role in (secrets_.get("oidc_roles", {}) or {}).items()
    }
    return AuthConfig(
        accounts=accounts,
        oidc_roles=oidc_roles,
        oidc_enabled="auth" in secrets_,
        session_hours=session_hours,
        cookie_key=_cookie_key(data_dir, environ.get("DASHBOARD_COOKIE_KEY") or options.get("cookie_key")),
        data_dir=data_dir,
    )


# --- Shared state: failed sign-ins and sign-outs ---------------------------------------------------


class AuthState:
    """Failed sign-in counts and sign-out times in one JSON file, updated under a file lock so
    every session and process of the server sees the same."""

    def __init__(self, data_dir: Path):
        self.path = data_dir / STATE_FILE

    @contextlib.contextmanager
    def _locked(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_suffix(".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _read(self) -> dict:
        try:
            state = json.loads(self.path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            state = {}
        state.setdefault("failures", {})
        state.setdefault("signed_out", {})
        return state

    def _write(self, state: dict) -> None:
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(state), encoding="utf-8")
        os.replace(temporary, self.path)

    def wait_s(self, key: str, now: float) -> float:
        """Seconds before `key` may try again: none for the first failures, then 30 s, doubling."""
        entry = self._read()["failures"].get(key)
        if not entry or entry["count"] < FAILURES_BEFORE_WAIT:
            return 0.0
        wait = min(FIRST_WAIT_S * 2 ** (entry["count"] - FAILURES_BEFORE_WAIT), MAX_WAIT_S)
        return max(0.0, entry["last"] + wait - now)

    def record_failure(self, key: str, now: float) -> None:
        with self._locked():
            state = self._read()
            entry = state["failures"].get(key, {"count": 0})
            state["failures"][key] = {"count": entry["count"] + 1, "last": now}
            self._write(state)

    def clear_failures(self, key: str) -> None:
        with self._locked():
            state = self._read()
            if state["failures"].pop(key, None) is not None:
                self._write(state)

    def signed_out_at(self, name: str) -> float:
        return float(self._read()["signed_out"].get(account_key(name), 0.0))

    def sign_out(self, name: str, now: float) -> None:
        with self._locked():
            state = self._read()
            state["signed_out"][account_key(name)] = now
            self._write(state)


# --- Password sign-in --------------------------------------------------------------------------------


def authenticate(config: AuthConfig, state: AuthState, username: str, password: str, now: float) -> User:
    """The user for a correct username and password; SignInRefused otherwise, with a message that
    never says whether the account exists."""
    key = account_key(username)
    if not key or not password:
        raise SignInRefused("Enter a username and a password.")
    wait = state.wait_s(key, now)
    if wait > 0:
        raise SignInRefused(f"Too many failed sign-ins for this username. Try again in {math.ceil(wait)} s.")
    account = config.accounts.get(key)
    try:
        _hasher.verify(account.password_hash if account else _DUMMY_HASH, password[:MAX_PASSWORD])
        accepted = account is not None
    except (VerificationError, InvalidHashError):
        accepted = False
    if not accepted:
        state.record_failure(key, now)
        raise SignInRefused("Wrong username or password.")
    state.clear_failures(key)
    return User(account.username, account.role, now)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def session_token(config: AuthConfig, user: User) -> str:
    """The cookie value for `user`: payload and signature, both URL-safe base64."""
    payload = json.dumps(
        {"u": user.name, "iat": user.signed_in_at, "exp": user.signed_in_at + config.session_hours * 3600},
        separators=(",", ":"),
    ).encode()
    signature = hmac.new(config.cookie_key, payload, hashlib.sha256).digest()
    return f"{_b64(payload)}.{_b64(signature)}"


def user_from_token(config: AuthConfig, state: AuthState, token: str | None, now: float) -> User | None:
    """The user a cookie stands for, or None when it is missing, forged, expired or signed out."""
    if not token or len(token) > 4096 or "." not in token:
        return None
    encoded_payload, _, encoded_signature = token.partition(".")
    try:
        payload, signature = _unb64(encoded_payload), _unb64(encoded_signature)
    except ValueError:
        return None
    expected = hmac.new(config.cookie_key, payload, hashlib.sha256).digest()
    if not hmac.compare_digest(signature, expected):
        return None
    try:
        claims = json.loads(payload)
        name, signed_in_at, expires_at = str(claims["u"]), float(claims["iat"]), float(claims["exp"])
    except (ValueError, KeyError, TypeError):
        return None
    user = User(name, "viewer", signed_in_at)
    if expires_at < now:
        return None
    return still_signed_in(config, state, user, now)


def still_signed_in(config: AuthConfig, state: AuthState, user: User, now: float) -> User | None:
    """`user` with the role the configuration gives it now, or None when its sign-in has ended
    (signed out since, expired, account removed)."""
    if user.signed_in_at <= state.signed_out_at(user.name):
        return None
    if user.via == "oidc":
        role = config.oidc_role(user.name)
        return User(user.name, role, user.signed_in_at, "oidc") if role else None
    if now > user.signed_in_at + config.session_hours * 3600:
        return None
    account = config.account(user.name)
    return User(account.username, account.role, user.signed_in_at) if account else None


def verified_role(
    config: AuthConfig, state: AuthState, user: User | None, now: float | None = None
) -> str | None:
    """The role `user` holds according to the configuration (never the object's own claim)."""
    if user is None:
        return None
    current = still_signed_in(config, state, user, time.time() if now is None else now)
    return current.role if current else None


def require_admin(config: AuthConfig, state: AuthState, user: User | None) -> User:
    """`user` when the configuration makes them an admin; NotAllowed otherwise."""
    if verified_role(config, state, user) != "admin":
        raise NotAllowed("Only an admin can change settings; your account is not allowed to.")
    return user


# --- Accounts files (the embedded demo's, the tests' and the benchmark's) ------------------------------

_TOML_SAFE = re.compile(r"[A-Za-z0-9_.-]+")


def write_accounts_file(path: Path, accounts: Mapping[str, Mapping[str, str]]) -> None:
    """Write `{role: {username, password}}` as an accounts file (with the passwords, for the
    people or tests that sign in with them, and their hashes, for the app), readable by the owner
    only. Names and passwords are limited to characters TOML needs no escaping for."""
    lines = ["# Accounts for the dashboard, with their passwords in clear: never commit this file."]
    for role, account in accounts.items():
        username, password = account["username"], account["password"]
        if role not in ROLES or not _TOML_SAFE.fullmatch(username) or not _TOML_SAFE.fullmatch(password):
            raise ValueError(f"cannot write account {username!r} with role {role!r}")
        lines += [
            f"[{role}]",
            f'username = "{username}"',
            f'password = "{password}"',
            f'password_hash = "{hash_password(password)}"',
            f'role = "{role}"',
            "",
        ]
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines))


def read_accounts_file(path: Path) -> dict[str, dict[str, str]]:
    """`{role: {username, password}}` from a file written by write_accounts_file."""
    tables = tomllib.loads(path.read_text(encoding="utf-8"))
    return {role: {"username": t["username"], "password": t["password"]} for role, t in tables.items()}


def ensure_demo_accounts(data_dir: Path) -> dict[str, dict[str, str]]:
    """The demo's admin and viewer accounts: made with random passwords on first use and kept in
    data/demo_credentials.toml. Returns {role: {username, password}}."""
    path = data_dir / DEMO_CREDENTIALS_FILE
    if not path.is_file():
        write_accounts_file(
            path,
            {role: {"username": role, "password": secrets.token_urlsafe(12)} for role in ("admin", "viewer")},
        )
    return read_accounts_file(path)
