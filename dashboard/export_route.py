"""The CSV download route: `GET <base>/export/<token>.csv` streams an export a page offered.

A page asks `link(slot, export, user)` for the URL of its 'Download CSV' link. That grants the
signed-in person the export (view, filters, row cap, transform) under a random token for
GRANT_TTL_S after the page last showed it. The transform (pseudonymisation) is a callable and
cannot travel in a URL, so grants live in this process; behind a load balancer, the sticky
sessions Streamlit already needs send the download to the replica that drew the page.

The token alone is not enough: the request must carry the same person's sign-in (the dashboard's
cookie, or Streamlit's for an organisation account), still valid and with the same role, so a
leaked link is useless to anyone else. Refusals are short plain-text answers, never data.

serve.py mounts `routes()` next to Streamlit's own (st.App).
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import anyio
import streamlit as st
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route
from streamlit import config as streamlit_config
from streamlit.url_util import make_url_path

from dashboard import auth
from dashboard.export import ViewExport, file_name, view_csv

log = logging.getLogger(__name__)

GRANT_TTL_S = 10 * 60
MAX_GRANTS = 10_000
ROUTE_PATH = "export/{token}.csv"
_SLOTS_KEY = "_lillo_dash_export_tokens"
_PRIVATE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


class Refused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Grant:
    export: ViewExport
    user: auth.User
    expires_at: float


def _same_person(a: auth.User, b: auth.User) -> bool:
    return (auth.account_key(a.name), a.via) == (auth.account_key(b.name), b.via)


class Grants:
    """Tokens to the exports they grant, shared by the server's sessions and download requests."""

    def __init__(self, ttl_s: float = GRANT_TTL_S, max_grants: int = MAX_GRANTS):
        self.ttl_s = ttl_s
        self.max_grants = max_grants
        self._lock = threading.Lock()
        self._grants: dict[str, Grant] = {}

    def offer(self, token: str | None, export: ViewExport, user: auth.User, now: float) -> str:
        """The token that grants `user` the export for ttl_s from `now`: `token` again when it
        already grants them the same file (so a rerun keeps the link), otherwise a new one, and
        `token` is withdrawn."""
        with self._lock:
            self._forget_expired(now)
            kept = self._grants.get(token) if token else None
            if kept is None or not (_same_person(kept.user, user) and kept.user.role == user.role):
                self._grants.pop(token, None)
                token = secrets.token_urlsafe(32)
            elif not kept.export.same_file(export):
                del self._grants[token]
                token = secrets.token_urlsafe(32)
            if len(self._grants) >= self.max_grants:
                del self._grants[min(self._grants, key=lambda t: self._grants[t].expires_at)]
            self._grants[token] = Grant(export, user, now + self.ttl_s)
            return token

    def redeem(
        self,
        token: str,
        requester: Callable[[auth.User], auth.User | None],
        config: auth.AuthConfig,
        now: float,
    ) -> ViewExport:
        """The export `token` grants, when `requester(owner)` — who sent the request, judged by
        the sign-in the owner used — is its owner, still signed in with the same role; Refused
        otherwise."""
        with self._lock:
            grant = self._grants.get(token)
        if grant is None or grant.expires_at < now:
            raise Refused(
                404,
                f"This download link is unknown or has expired (links last {self.ttl_s / 60:g} minutes "
                "after the page showed them). Reload the dashboard page and click Download CSV again.",
            )
        sender = requester(grant.user)
        if sender is None:
            raise Refused(403, "Sign in to the dashboard in this browser, then click Download CSV again.")
        if not _same_person(sender, grant.user):
            raise Refused(403, "This download link was made for another account.")
        still = auth.still_signed_in(config, auth.AuthState(config.data_dir), grant.user, now)
        if still is None or still.role != grant.user.role:
            raise Refused(403, "Your sign-in or role has changed since the page was shown. Reload it.")
        return grant.export

    def __len__(self) -> int:
        return len(self._grants)

    def _forget_expired(self, now: float) -> None:
        for token in [t for t, grant in self._grants.items() if grant.expires_at < now]:
            del self._grants[token]


@st.cache_resource(show_spinner=False)
def grants() -> Grants:
    """The server's one Grants. Kept by Streamlit rather than in a module global, because
    Streamlit unloads the app's modules when a source file changes, and the route would then
    keep an older store than the pages."""
    return Grants()


def _base_path() -> str:
    return streamlit_config.get_option("server.baseUrlPath") or ""


def link(slot: str, export: ViewExport, user: auth.User) -> str:
    """The download URL of `export` for `user`, the same for the same file at every rerun of this
    session's element `slot`."""
    tokens = st.session_state.setdefault(_SLOTS_KEY, {})
    tokens[slot] = grants().offer(tokens.get(slot), export, user, time.time())
    return make_url_path(_base_path(), ROUTE_PATH.format(token=tokens[slot]))


# --- Who sent a request -------------------------------------------------------------------------------


def _organisation_account(request: Request, config: auth.AuthConfig) -> auth.User | None:
    """The organisation (OIDC) account of Streamlit's signed sign-in cookie, if any. Streamlit has
    no public reader for it outside a session, so this uses its own helper, pinned with it."""
    try:
        from streamlit.web.server.starlette.starlette_auth_routes import _get_cookie_value_from_request
        from streamlit.web.server.starlette.starlette_server_config import USER_COOKIE_NAME
    except ImportError:
        log.warning(
            "this Streamlit version has no sign-in cookie reader; organisation accounts cannot download"
        )
        return None
    raw = _get_cookie_value_from_request(request, USER_COOKIE_NAME)
    try:
        claims = json.loads(raw) if raw else {}
    except ValueError:
        return None
    email = str(claims.get("email") or "") if claims.get("is_logged_in") else ""
    role = config.oidc_role(email) if email else None
    return auth.User(email, role, float(claims.get("iat") or 0), "oidc") if role else None


def requester(request: Request, config: auth.AuthConfig, owner: auth.User) -> auth.User | None:
    """Who sent `request`, by the kind of sign-in `owner` used: None when it carries none."""
    if owner.via == "oidc":
        return _organisation_account(request, config) if config.oidc_enabled else None
    from dashboard.signin import COOKIE_NAME

    cookie = request.cookies.get(COOKIE_NAME)
    return auth.user_from_token(config, auth.AuthState(config.data_dir), cookie, time.time())


# --- The route ------------------------------------------------------------------------------------------


def _start(request: Request, token: str) -> tuple[str, Iterator[bytes], bytes]:
    """(file name, chunks, first chunk) of the export `token` grants the request's sender; the
    view has run when this returns. Blocking: it reads files and the database."""
    from dashboard import signin, views
    from dashboard.config import ConfigError

    try:
        config = signin.auth_config()
    except (auth.AuthError, ConfigError) as error:
        raise Refused(503, f"Sign-in is misconfigured: {error}") from None
    export = grants().redeem(token, lambda owner: requester(request, config, owner), config, time.time())
    as_of = datetime.now(UTC)
    chunks = view_csv(export, as_of)
    try:
        first = next(chunks)
    except views.ViewUnavailable as problem:
        raise Refused(503, f"The export could not run: {problem}") from None
    return file_name(export.name, export.parts, as_of), chunks, first


async def _body(first: bytes, chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    """The chunks, each read in a worker thread (they come from the database); on a disconnect the
    reader is closed there too, which ends the query."""
    try:
        yield first
        while (chunk := await anyio.to_thread.run_sync(next, chunks, None)) is not None:
            yield chunk
    except Exception:
        log.exception("CSV export failed while sending")
        # Said in the file too, and the transfer is cut short so the browser marks it failed.
        yield b"\n# ERROR: the export failed while it was being sent; this file is incomplete.\n"
        raise
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(chunks.close)


async def download(request: Request) -> Response:
    try:
        name, chunks, first = await anyio.to_thread.run_sync(_start, request, request.path_params["token"])
    except Refused as refused:
        return PlainTextResponse(refused.message, status_code=refused.status, headers=_PRIVATE)
    except Exception:
        log.exception("CSV export failed to start")
        return PlainTextResponse(
            "The export failed; the server log says why.", status_code=500, headers=_PRIVATE
        )
    return StreamingResponse(
        _body(first, chunks),
        media_type="text/csv; charset=utf-8",
        headers=_PRIVATE | {"Content-Disposition": f'attachment; filename="{name}"'},
    )


def routes() -> list[Route]:
    return [Route(make_url_path(_base_path(), ROUTE_PATH), download, methods=["GET"])]
