"""The web app's HTTP side (Starlette): the page, a JSON API for uploads, settings and jobs,
the job files, and a server-sent event stream of live updates. Every error a browser can
cause comes back as JSON {"field", "message"} for the page to show beside that field."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from impasto.apps.web import form
from impasto.apps.web.auth import TokenGate
from impasto.apps.web.backends import backend_for
from impasto.apps.web.config import ServerConfig, is_loopback
from impasto.apps.web.events import EventHub, stream
from impasto.apps.web.guard import Guard
from impasto.apps.web.jobs import Runner, Stylizers
from impasto.apps.web.store import OUTPUTS, Store, valid_id
from impasto.apps.web.uploads import UploadRefused, admit, display_name, receive, too_large
from impasto.errors import ImpastoError

STATIC = Path(__file__).parent / "static"
MAX_STYLES = 8
MAX_JSON_BYTES = 64 * 1024


def error(message: str, status: int = 400, field: str | None = None) -> JSONResponse:
    return JSONResponse({"field": field, "message": message}, status)


class Api:
    """The routes, sharing one store, event hub and job runner."""

    def __init__(self, config: ServerConfig, stylizers: Stylizers | None, hub: EventHub) -> None:
        """Takes the data folder first, then the backend's workers (a Ray cluster's, which may
        take seconds to start)."""
        self.config = config
        self.store = Store(config.data)
        self.hub = hub
        try:
            self.runner = Runner(self.store, self.hub, backend_for(config, stylizers))
        except BaseException:
            self.store.close()
            raise

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        self.hub.bind(asyncio.get_running_loop())
        self.runner.start()
        try:
            yield
        finally:
            self.hub.close()
            await run_in_threadpool(self.runner.shutdown)
            self.store.close()

    def routes(self) -> list[Route | Mount]:
        return [
            Route("/", self.page),
            Route("/api/config", self.settings_form),
            Route("/api/uploads", self.upload, methods=["POST"]),
            Route("/api/uploads/{upload_id}/thumb", self.upload_thumb),
            Route("/api/jobs", self.jobs),
            Route("/api/jobs", self.submit, methods=["POST"]),
            Route("/api/jobs/{job_id}", self.job),
            Route("/api/jobs/{job_id}/stop", self.stop, methods=["POST"]),
            Route("/api/jobs/{job_id}/files/{name}", self.job_file),
            Route("/api/events", self.events),
            Mount("/static", StaticFiles(directory=STATIC)),
        ]

    async def page(self, request: Request) -> Response:
        return FileResponse(STATIC / "index.html")

    async def settings_form(self, request: Request) -> Response:
        """The form's fields from Settings, and the server's limits."""
        return JSONResponse(
            {
                **form.schema(self.config.model, self.config.labels),
                "max_upload_bytes": self.config.max_upload_bytes,
                "max_size": self.config.max_size,
                "max_styles": MAX_STYLES,
            }
        )

    async def upload(self, request: Request) -> Response:
        """One image as the raw request body; its name (for showing only) in X-Filename."""
        name = display_name(unquote(request.headers.get("x-filename", "")))
        limit = self.config.max_upload_bytes
        try:
            declared = request.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise too_large(name, limit)  # refused before reading a byte of it
            received = await receive(request.stream(), self.store.tmp, name, limit)
            upload = await run_in_threadpool(admit, received, name, self.store.uploads)
        except UploadRefused as refused:
            return error(str(refused), refused.status, "images")
        return JSONResponse(upload, 201)

    async def upload_thumb(self, request: Request) -> Response:
        upload_id = request.path_params["upload_id"]
        thumb = self.store.uploads / f"{upload_id}.thumb.jpg"
        if not valid_id(upload_id) or not thumb.is_file():
            return error("no such upload", 404)
        return FileResponse(thumb, media_type="image/jpeg")

    async def jobs(self, request: Request) -> Response:
        return JSONResponse(self.store.all())

    async def submit(self, request: Request) -> Response:
        """Queues a run: {"settings": {...}, "content": {"id", "name"}, "styles": [...], "parent"}."""
        try:
            body = await _json_body(request)
            settings = form.parse(body.get("settings", {}), self.config.model, self.config.max_size)
            content, styles = _images(body)
            parent = body.get("parent") if valid_id(body.get("parent")) else None
            job = await run_in_threadpool(self.runner.submit, settings, content, styles, parent)
        except ImpastoError as refused:
            return error(str(refused), 400, refused.setting)
        return JSONResponse(job, 201)

    async def job(self, request: Request) -> Response:
        job = self.store.get(request.path_params["job_id"])
        return error("no such job", 404) if job is None else JSONResponse(job)

    async def stop(self, request: Request) -> Response:
        """Stops a running job (keeping its current image) or cancels a queued one."""
        job = self.runner.stop(request.path_params["job_id"]) if valid_id(request.path_params["job_id"]) else None
        return error("no such job", 404) if job is None else JSONResponse(job)

    async def job_file(self, request: Request) -> Response:
        """One of a job's outputs, by its fixed name only; `?download` makes it an attachment."""
        job_id, name = request.path_params["job_id"], request.path_params["name"]
        if name not in OUTPUTS or self.store.get(job_id) is None:
            return error("no such file", 404)
        path = self.store.job_folder(job_id) / name
        if not path.is_file():
            return error("no such file", 404)
        attachment = f"impasto-{job_id[:8]}-{name}" if "download" in request.query_params else None
        return FileResponse(
            path, filename=attachment, content_disposition_type="attachment" if attachment else "inline"
        )

    async def events(self, request: Request) -> Response:
        """Server-sent events: the state now ("hello"), then job changes, progress and previews."""
        return StreamingResponse(
            stream(self.hub, self.runner.snapshot),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )


async def _json_body(request: Request) -> dict[str, Any]:
    """A small JSON object body, refused (not read) when larger than MAX_JSON_BYTES."""
    data = b""
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_JSON_BYTES:
            raise ImpastoError("the request is too large")
    try:
        body = json.loads(data or b"{}")
    except ValueError:
        raise ImpastoError("the request is not valid JSON") from None
    if not isinstance(body, dict):
        raise ImpastoError("the request must be a JSON object")
    return body


def _images(body: dict[str, Any]) -> tuple[dict[str, str], list[dict[str, str]]]:
    """The content and style uploads a run names, as checked {"id", "name"} pairs."""
    content, styles = body.get("content"), body.get("styles")
    if not isinstance(content, dict) or not valid_id(content.get("id")):
        raise ImpastoError("add a photo (the content image) first", "content")
    if not isinstance(styles, list) or not styles:
        raise ImpastoError("add at least one artwork (a style image)", "styles")
    if len(styles) > MAX_STYLES:
        raise ImpastoError(f"use at most {MAX_STYLES} artworks in one run", "styles")
    if not all(isinstance(s, dict) and valid_id(s.get("id")) for s in styles):
        raise ImpastoError("an artwork of this run is not a valid upload: add it again", "styles")
    return _upload_ref(content), [_upload_ref(s) for s in styles]


def _upload_ref(entry: dict[str, Any]) -> dict[str, str]:
    return {"id": entry["id"], "name": display_name(str(entry.get("name", "")))}


async def _dropped(request: Request, exc: Exception) -> Response:
    """A browser that went away in the middle of sending (a closed tab, a lost connection):
    one line in the server's log, and nothing kept."""
    name = display_name(unquote(request.headers.get("x-filename", "")))
    what = f"the upload of {name}" if request.url.path == "/api/uploads" else f"a {request.method} {request.url.path}"
    print(f"impasto: {what} stopped before it was whole (the browser went away); nothing was kept", file=sys.stderr)
    return Response(status_code=400)


def create_app(config: ServerConfig, stylizers: Stylizers | None = None, hub: EventHub | None = None) -> Guard:
    """The web app (an ASGI app) for one data folder, whose lock it takes at once (see
    `Store`); `stylizers` may be shared between apps (the tests load each network once);
    closing `hub` ends every event stream (the server does so on Ctrl-C). With a token in
    `config`, every route asks for it (see `impasto.apps.web.auth`)."""
    api = Api(config, stylizers, hub or EventHub())
    app = Starlette(routes=api.routes(), lifespan=api.lifespan, exception_handlers={ClientDisconnect: _dropped})
    # the Guard first: a foreign Host or a cross-site write is refused before any token is
    # looked at, and its headers go on every answer, the gate's refusals included
    if config.token is None:
        return Guard(app, local_only=is_loopback(config.host))
    return Guard(TokenGate(app, config.token), local_only=False)  # the token keeps rebinding pages out
