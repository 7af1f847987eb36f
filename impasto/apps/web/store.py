"""The web app's data folder: a SQLite table of jobs and their states, and one folder per
job, so the queue and the gallery outlive the server process.

Layout under the data folder: `serve.lock` (held by the one server that uses the folder);
`jobs.sqlite3`; `uploads/<id>.<ext>` (checked uploads, named by content) with
`<id>.thumb.jpg`; `tmp/` (uploads being received); `jobs/<id>/inputs/` and the job's
outputs (`result.png`, `animation.gif`, `comparison.png`, `losses.csv`, `latest.png` while
it runs, `thumb.jpg`). Every name is chosen here; ids are checked against a strict pattern
before any path is built from them.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from impasto.apps.web.lock import lock_data_folder
from impasto.errors import ImpastoError

ID = re.compile(r"[0-9a-f]{32}")
"""Job and upload ids: 32 lower-case hex digits, so an id can never name another path."""
QUEUED, RUNNING, DONE, STOPPED, FAILED, INTERRUPTED, CANCELLED = (
    "queued",
    "running",
    "done",
    "stopped",
    "failed",
    "interrupted",
    "cancelled",
)
FINISHED = (DONE, STOPPED, FAILED, INTERRUPTED, CANCELLED)
OUTPUTS = ("result.png", "animation.gif", "comparison.png", "losses.csv", "thumb.jpg")
"""The only job files the server hands out."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    created REAL NOT NULL,
    state TEXT NOT NULL,
    model TEXT NOT NULL,
    settings TEXT NOT NULL,
    inputs TEXT NOT NULL,
    parent TEXT,
    message TEXT NOT NULL DEFAULT '',
    iteration INTEGER NOT NULL DEFAULT 0,
    iterations INTEGER NOT NULL DEFAULT 0,
    started REAL,
    finished REAL
)
"""
_JSON_COLUMNS = ("settings", "inputs")


def valid_id(value: object) -> bool:
    """Whether `value` is a well-formed job or upload id (and so safe in a path)."""
    return isinstance(value, str) and ID.fullmatch(value) is not None


class Store:
    """Jobs in SQLite plus their folders; safe to use from the event loop and the worker."""

    def __init__(self, root: Path) -> None:
        """Takes the data folder's lock before anything else (one server per folder)."""
        self.root = root
        self.uploads = root / "uploads"
        self.tmp = root / "tmp"
        self.jobs = root / "jobs"
        self._held = lock_data_folder(root)
        try:
            for folder in (self.uploads, self.tmp, self.jobs):
                folder.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(root / "jobs.sqlite3", check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(_SCHEMA)
        except (OSError, sqlite3.Error) as error:
            self._held.close()
            raise ImpastoError(f"cannot use the data folder {root} ({error}): choose another with --data") from error
        self._db.row_factory = sqlite3.Row
        self._lock = threading.Lock()

    def close(self) -> None:
        """Closes the job table and lets another server have the folder."""
        with self._lock:
            self._db.close()
            self._held.close()

    def job_folder(self, job_id: str) -> Path:
        """The folder of a job, for a well-formed id only."""
        if not valid_id(job_id):
            raise ValueError(f"not a job id: {job_id!r}")
        return self.jobs / job_id

    def add(self, model: str, settings: dict[str, Any], inputs: dict[str, Any], parent: str | None) -> dict[str, Any]:
        """A new queued job (its folder is made by whoever fills it)."""
        job_id = uuid.uuid4().hex
        with self._lock:
            self._db.execute(
                "INSERT INTO jobs (id, created, state, model, settings, inputs, parent) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (job_id, time.time(), QUEUED, model, json.dumps(settings), json.dumps(inputs), parent),
            )
        return self.require(job_id)

    def get(self, job_id: str) -> dict[str, Any] | None:
        if not valid_id(job_id):
            return None
        with self._lock:
            row = self._db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return None if row is None else self._job(row)

    def require(self, job_id: str) -> dict[str, Any]:
        """A job this store holds (jobs are never deleted, so an id it gave out is one)."""
        job = self.get(job_id)
        if job is None:
            raise LookupError(f"no job {job_id!r}")
        return job

    def all(self) -> list[dict[str, Any]]:
        """Every job, newest first."""
        with self._lock:
            rows = self._db.execute("SELECT * FROM jobs ORDER BY created DESC").fetchall()
        return [self._job(row) for row in rows]

    def next_queued(self) -> dict[str, Any] | None:
        """The oldest job still waiting."""
        with self._lock:
            row = self._db.execute("SELECT * FROM jobs WHERE state = ? ORDER BY created LIMIT 1", (QUEUED,)).fetchone()
        return None if row is None else self._job(row)

    def update(self, job_id: str, **fields: Any) -> dict[str, Any]:
        """Sets the given columns of one job and returns it."""
        names = ", ".join(f"{name} = ?" for name in fields)
        with self._lock:
            self._db.execute(f"UPDATE jobs SET {names} WHERE id = ?", (*fields.values(), job_id))
        return self.require(job_id)

    def claim(self, job_id: str) -> bool:
        """Marks a queued job running; False if it was cancelled in the meantime."""
        with self._lock:
            cursor = self._db.execute(
                "UPDATE jobs SET state = ?, started = ? WHERE id = ? AND state = ?",
                (RUNNING, time.time(), job_id, QUEUED),
            )
        return cursor.rowcount == 1

    def cancel(self, job_id: str) -> bool:
        """Cancels a job that has not started; False if it already has."""
        with self._lock:
            cursor = self._db.execute(
                "UPDATE jobs SET state = ?, finished = ? WHERE id = ? AND state = ?",
                (CANCELLED, time.time(), job_id, QUEUED),
            )
        return cursor.rowcount == 1

    def running(self) -> list[dict[str, Any]]:
        """Jobs marked running: after a restart, the ones the last server was running when it died."""
        with self._lock:
            rows = self._db.execute("SELECT * FROM jobs WHERE state = ?", (RUNNING,)).fetchall()
        return [self._job(row) for row in rows]

    def _job(self, row: sqlite3.Row) -> dict[str, Any]:
        job = dict(row)
        for name in _JSON_COLUMNS:
            job[name] = json.loads(job[name])
        folder = self.jobs / job["id"]
        job["files"] = [name for name in OUTPUTS if (folder / name).is_file()]
        return job
