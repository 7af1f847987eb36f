"""The token that keeps a shared server to its users (as Jupyter does): beyond loopback, or
when given with `--token` or `IMPASTO_TOKEN`, every request must carry it, in the cookie a
first visit with `?token=` sets, or as `Authorization: Bearer`. A missing token gets 401, a
wrong one 403, and neither gets any data. The token is compared in constant time, and never
echoed, logged or stored: the start-up line that prints it is the one place it appears."""

from __future__ import annotations

import hmac
import os
import re
import secrets
from urllib.parse import quote, unquote_plus

from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocketClose

from impasto.apps.web.config import is_loopback
from impasto.errors import ImpastoError

COOKIE = "impasto_token"
ENVIRONMENT = "IMPASTO_TOKEN"
QUERY = "token"
MIN_LENGTH = 16
"""A token chosen by hand must be at least this long; a generated one has 43 characters
(32 random bytes)."""
_TOKEN_CHARACTERS = re.compile(r"[A-Za-z0-9._~-]+")
"""Characters that pass unchanged through a URL, a header and a cookie."""


def new_token() -> str:
    """A fresh token: 256 bits from the operating system's secure source."""
    return secrets.token_urlsafe(32)


def server_token(host: str, given: str | None) -> str | None:
    """The token the server requires: the one given (`--token`, else `IMPASTO_TOKEN`), else a
    new one when `host` is not loopback; None (no token, as on one's own machine) otherwise."""
    source = "--token"
    if not given:
        given, source = os.environ.get(ENVIRONMENT) or None, ENVIRONMENT
    if given is None:
        return None if is_loopback(host) else new_token()
    if not _TOKEN_CHARACTERS.fullmatch(given):
        raise ImpastoError(f"{source} may hold only letters, digits and - _ . ~: choose another token")
    if len(given) < MIN_LENGTH:
        raise ImpastoError(
            f"{source} is too short to keep others out: use at least {MIN_LENGTH} characters, "
            "or leave it out to have one generated"
        )
    return given


def url_with_token(url: str, token: str | None) -> str:
    """The address to open: `url` itself, or with the token that lets a browser in."""
    return url if token is None else f"{url}/?{QUERY}={token}"


class TokenGate:
    """ASGI middleware: lets through only requests carrying `token`; a right `?token=` is
    exchanged for the cookie and the same address without it, so the token leaves the
    address bar, the history and any link copied from the page."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        answer = None if scope["type"] == "lifespan" else self._answer(scope)
        if answer is None:
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":  # none is served, but one is refused before the app sees it
            await WebSocketClose(code=1008)(scope, receive, send)  # 1008: policy violation
        else:
            await answer(scope, receive, send)

    def _answer(self, scope: Scope) -> Response | None:
        """None for a request that carries the token, else the gate's own answer."""
        kept, given = _split_query(scope.get("query_string", b"").decode("latin-1"))
        if given is not None:
            return _exchange(scope, kept, given) if self._matches(given) else _refusal(403)
        presented = _presented(Headers(scope=scope))
        if presented is None:
            return _refusal(401)
        return None if self._matches(presented) else _refusal(403)

    def _matches(self, given: str) -> bool:
        # as bytes: compare_digest refuses str with non-ASCII characters, which a header may hold
        return hmac.compare_digest(given.encode(), self.token)


def _split_query(query: str) -> tuple[str, str | None]:
    """The query string without its `token` parameters, and the first token's value."""
    kept, given = [], None
    for part in query.split("&") if query else []:
        name, _, value = part.partition("=")
        if unquote_plus(name) == QUERY:
            given = unquote_plus(value) if given is None else given
        else:
            kept.append(part)
    return "&".join(kept), given


def _presented(headers: Headers) -> str | None:
    """The token a request carries: its `Authorization: Bearer`, else its cookie."""
    scheme, _, credentials = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        return credentials.strip()
    return cookie_parser(headers.get("cookie", "")).get(COOKIE)


def _exchange(scope: Scope, kept: str, token: str) -> Response:
    """The redirect to the same address without the token, setting the cookie that replaces it
    (Secure when the request came over HTTPS, as through a TLS proxy)."""
    raw_path = scope.get("raw_path")
    path = raw_path.decode("latin-1") if raw_path else quote(scope["path"])
    response = Response(status_code=307, headers={"location": f"{path}?{kept}" if kept else path})
    response.headers["cache-control"] = "no-store"
    response.set_cookie(
        COOKIE, token, path="/", httponly=True, samesite="strict", secure=scope.get("scheme") == "https"
    )
    return response


def _refusal(status: int) -> Response:
    """401 for a request without a token, 403 for a wrong one: a one-line message, no data."""
    headers = {"cache-control": "no-store"}
    if status == 401:
        message = "this server needs its token: open the address impasto serve printed at start-up (with ?token=)"
        headers["www-authenticate"] = 'Bearer realm="impasto"'
    else:
        message = "that is not this server's token: open the address impasto serve printed at start-up"
    return JSONResponse({"field": None, "message": message}, status, headers=headers)
