"""Persistent state: endpoints and a few settings in one SQLite file.

One connection guarded by a lock, autocommit per statement, WAL journal: every change is on
disk when the request that made it answers, so killing the process loses nothing.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .lifecycle import Schedule, Transition

_SCHEMA = """
CREATE TABLE IF NOT EXISTS endpoints (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    namespace TEXT NOT NULL,
    name TEXT NOT NULL,
    id TEXT NOT NULL UNIQUE,
    record TEXT NOT NULL,
    last_activity REAL,
    UNIQUE (namespace, name)
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class DuplicateName(Exception):
    """An endpoint with this name already exists in the namespace."""


@dataclass(frozen=True)
class EndpointRecord:
    """One endpoint as stored: the configuration the client sent and what happened to it."""

    namespace: str
    name: str
    id: str
    config: dict[str, Any]
    created_at: float
    updated_at: float
    created_by: str
    updated_by: str
    schedule: Schedule
    last_activity: float | None = None
    seq: int = 0
    history: tuple[Transition, ...] = ()
    """The transitions of earlier schedules, up to when the current one replaced them."""
    failures: tuple[tuple[float, str], ...] = ()
    """When earlier schedules ended failed (or updateFailed), and why: the causes their log
    lines show."""

    def _document(self) -> str:
        return json.dumps(
            {
                "config": self.config,
                "createdAt": self.created_at,
                "updatedAt": self.updated_at,
                "createdBy": self.created_by,
                "updatedBy": self.updated_by,
                "schedule": self.schedule.to_json(),
                "history": [[state, at] for state, at in self.history],
                "failures": [[at, message] for at, message in self.failures],
            },
            separators=(",", ":"),
        )

    @classmethod
    def _from_row(cls, row: sqlite3.Row) -> EndpointRecord:
        doc = json.loads(row["record"])
        return cls(
            namespace=row["namespace"],
            name=row["name"],
            id=row["id"],
            config=doc["config"],
            created_at=doc["createdAt"],
            updated_at=doc["updatedAt"],
            created_by=doc["createdBy"],
            updated_by=doc["updatedBy"],
            schedule=Schedule.from_json(doc["schedule"]),
            last_activity=row["last_activity"],
            seq=row["seq"],
            history=tuple((str(s), float(at)) for s, at in doc.get("history", ())),
            failures=tuple((float(at), str(m)) for at, m in doc.get("failures", ())),
        )


class Store:
    """Thread-safe access to the state file (or to `:memory:`)."""

    def __init__(self, path: str) -> None:
        self.path = path
        if path != ":memory:":
            Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            path if path == ":memory:" else str(Path(path).expanduser()),
            check_same_thread=False,
            isolation_level=None,
        )
        self._db.row_factory = sqlite3.Row
        with self._lock:
            self._db.execute("PRAGMA busy_timeout = 5000")
            if path != ":memory:":
                self._db.execute("PRAGMA journal_mode = WAL")
                self._db.execute("PRAGMA synchronous = NORMAL")
            self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def insert(self, record: EndpointRecord) -> EndpointRecord:
        try:
            with self._lock:
                cursor = self._db.execute(
                    "INSERT INTO endpoints (namespace, name, id, record, last_activity)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (
                        record.namespace,
                        record.name,
                        record.id,
                        record._document(),
                        record.last_activity,
                    ),
                )
        except sqlite3.IntegrityError as error:
            raise DuplicateName(f"{record.namespace}/{record.name}") from error
        return replace(record, seq=cursor.lastrowid or 0)

    def save(self, record: EndpointRecord) -> None:
        """Write the configuration and schedule of an existing endpoint."""
        with self._lock:
            self._db.execute(
                "UPDATE endpoints SET record = ? WHERE seq = ?", (record._document(), record.seq)
            )

    def touch(self, endpoint_id: str, when: float) -> None:
        """Record data-plane activity (the idle clock of automatic scale-to-zero)."""
        with self._lock:
            self._db.execute(
                "UPDATE endpoints SET last_activity = MAX(COALESCE(last_activity, 0), ?)"
                " WHERE id = ?",
                (when, endpoint_id),
            )

    def get(self, namespace: str, name: str) -> EndpointRecord | None:
        rows = self._query(
            "SELECT * FROM endpoints WHERE namespace = ? AND name = ?", (namespace, name)
        )
        return EndpointRecord._from_row(rows[0]) if rows else None

    def get_by_id(self, endpoint_id: str) -> EndpointRecord | None:
        rows = self._query("SELECT * FROM endpoints WHERE id = ?", (endpoint_id,))
        return EndpointRecord._from_row(rows[0]) if rows else None

    def list(self, namespace: str | None = None) -> list[EndpointRecord]:
        """Every endpoint (of one namespace), oldest first."""
        if namespace is None:
            rows = self._query("SELECT * FROM endpoints ORDER BY seq")
        else:
            rows = self._query(
                "SELECT * FROM endpoints WHERE namespace = ? ORDER BY seq", (namespace,)
            )
        return [EndpointRecord._from_row(row) for row in rows]

    def delete(self, namespace: str, name: str) -> bool:
        with self._lock:
            cursor = self._db.execute(
                "DELETE FROM endpoints WHERE namespace = ? AND name = ?", (namespace, name)
            )
        return cursor.rowcount > 0

    def meta(self, key: str) -> str | None:
        rows = self._query("SELECT value FROM meta WHERE key = ?", (key,))
        return str(rows[0]["value"]) if rows else None

    def set_meta(self, key: str, value: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )
