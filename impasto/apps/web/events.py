"""Live updates from the worker thread to every open page: events (plain JSON-ready dicts)
published from any thread are handed to each subscriber's asyncio queue on the server's
event loop, and streamed to the browser as server-sent events."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

QUEUE_SIZE = 512
HEARTBEAT_SECONDS = 15.0
"""A comment line this often keeps proxies from closing a quiet stream and finds dead clients."""


class EventHub:
    """Fans events out to subscribers; a subscriber that falls behind gets one `resync` event
    (its queue is emptied) and reloads the state, instead of holding the others up."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queues: set[asyncio.Queue[dict[str, Any] | None]] = set()
        self._lock = threading.Lock()
        self.closed = False

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Called once the server's event loop runs: events go to it from now on."""
        self._loop = loop

    def publish(self, event: dict[str, Any]) -> None:
        """Sends `event` to every subscriber; safe from any thread, never blocks."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed in between: nobody listens
                loop.call_soon_threadsafe(self._deliver, event)

    def close(self) -> None:
        """Ends every stream now (the server is stopping, and would otherwise wait for them);
        safe from any thread and from a signal handler."""
        self.closed = True
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._deliver, None)

    def _deliver(self, event: dict[str, Any] | None) -> None:
        with self._lock:
            queues = list(self._queues)
        for queue in queues:
            if queue.full() or event is None:
                while not queue.empty():
                    queue.get_nowait()
                queue.put_nowait(None if event is None else {"type": "resync"})
            else:
                queue.put_nowait(event)

    @contextlib.contextmanager
    def subscribe(self) -> Iterator[asyncio.Queue[dict[str, Any] | None]]:
        """A queue of the events published while inside (use on the event loop); None in it
        means the hub has closed."""
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(QUEUE_SIZE)
        with self._lock:
            self._queues.add(queue)
        try:
            yield queue
        finally:
            with self._lock:
                self._queues.discard(queue)


async def stream(hub: EventHub, first: Callable[[], dict[str, Any]]) -> AsyncIterator[str]:
    """The text of a server-sent event stream: `first()` (the state now), then each event,
    until the hub closes."""
    with hub.subscribe() as queue:
        yield _message(first())
        while not hub.closed:
            try:
                event = await asyncio.wait_for(queue.get(), HEARTBEAT_SECONDS)
            except asyncio.TimeoutError:
                yield ": still here\n\n"
                continue
            if event is None:
                return
            yield _message(event)


def _message(event: dict[str, Any]) -> str:
    return f"data: {json.dumps(event, separators=(',', ':'))}\n\n"
