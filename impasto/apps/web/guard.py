"""What keeps other web sites out of a local server: a page elsewhere cannot make the
browser post to it (its Origin is checked, scheme included: behind a TLS proxy the scheme is
the one the proxy's X-Forwarded-Proto gives uvicorn) nor reach it under another name (DNS
rebinding: the Host must be this machine's while it listens on loopback only without a
token), and every response carries headers that forbid framing, scripts from elsewhere and
content sniffing. The token gate (`impasto.apps.web.auth`), when there is one, comes after."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LOCAL_NAMES = ("127.0.0.1", "localhost", "[::1]")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]


class Guard:
    """ASGI middleware: refuses foreign Hosts (when `local_only`) and cross-site writes.
    `local_only` is for a loopback server without a token: with one, a page that reaches the
    server under a name of its own has neither the token nor the cookie (kept for the
    server's own name), and a TLS proxy in front may pass on the public name it was asked for."""

    def __init__(self, app: ASGIApp, local_only: bool) -> None:
        self.app = app
        self.local_only = local_only

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        host = headers.get("host", "")
        origin = f"{scope.get('scheme', 'http')}://{host}"  # this server's, as the browser sees it
        refusal = None
        if self.local_only and host.rsplit(":", 1)[0] not in LOCAL_NAMES and host not in LOCAL_NAMES:
            refusal = f"this server answers to 127.0.0.1 and localhost only, not {host[:60]!r}"
        elif scope["method"] not in SAFE_METHODS and headers.get("origin", origin) != origin:
            refusal = "requests from other web sites are refused"
        if refusal is not None:
            await JSONResponse({"field": None, "message": refusal}, 403)(scope, receive, self._secured(send))
            return
        await self.app(scope, receive, self._secured(send))

    @staticmethod
    def _secured(send: Send) -> Send:
        async def secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *HEADERS]
            await send(message)

        return secured
