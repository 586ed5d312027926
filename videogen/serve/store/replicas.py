"""What each worker replica reports about itself, so the ingress never has to ask it.

A replica writes its row when it starts (node, diagnostics, the models it
resolved on its own hardware) and touches it every few seconds; the ingress
answers ``/api/video/runtime`` and ``/api/video/models`` from these rows, so
those routes never call, or wake, a worker scaled to zero.
"""

from __future__ import annotations

import json
from enum import Enum
from typing import Any

from pydantic import BaseModel, Field

from videogen.serve.store.database import Database


class ReplicaState(str, Enum):
    RUNNING = "running"  # started, no job yet
    IDLE = "idle"
    BUSY = "busy"
    STOPPED = "stopped"

    def __str__(self) -> str:
        return self.value


class ModelsReport(BaseModel):
    """The family as this replica resolved it."""

    describe: dict[str, Any] = Field(description="videogen.video.support.describe_model for this model and hardware")
    model_meta: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="task -> ModelMeta fields, or {'error': ...} when it could not be read"
    )


class ReplicaRecord(BaseModel):
    replica_id: str
    family: str
    model_name: str | None = Field(
        default=None, description="the served model it runs (None: reported before named models, the family's default)"
    )
    deployment: str | None = None
    app: str | None = None
    node_id: str | None = None
    node_ip: str | None = None
    pid: int | None = None
    state: ReplicaState
    diagnostics: dict[str, Any] | None = None
    models: ModelsReport | None = None
    started_at: float
    last_seen: float


class Replicas:
    def __init__(self, db: Database):
        self.db = db
        # Counts the full reports written through this object: a cache of reports in this process
        # (service.report_cache) sees them at once, and those of other processes within its time to live.
        self.version = 0

    def report(
        self,
        identity: dict[str, Any],
        *,
        family: str,
        state: ReplicaState,
        diagnostics: dict[str, Any],
        models: ModelsReport,
        model_name: str | None = None,
    ) -> None:
        """Write this replica's full report (its identity: replica_id, deployment, app, node_id, node_ip, pid;
        ``model_name``: the served model it runs)."""
        with self.db.tx() as conn:
            now = self.db.clock(conn)
            conn.execute(
                """INSERT INTO replicas(replica_id, family, deployment, app, node_id, node_ip, pid, state,
                       diagnostics_json, models_json, started_at, last_seen, model_name)
                   VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)
                   ON CONFLICT(replica_id) DO UPDATE SET state=excluded.state, diagnostics_json=excluded.diagnostics_json,
                       models_json=excluded.models_json, last_seen=excluded.last_seen""",
                (
                    identity["replica_id"],
                    family,
                    identity.get("deployment"),
                    identity.get("app"),
                    identity.get("node_id"),
                    identity.get("node_ip"),
                    identity.get("pid"),
                    str(state),
                    json.dumps(diagnostics),
                    models.model_dump_json(),
                    now,
                    now,
                    model_name,
                ),
            )
        self.version += 1

    def touch(self, replica_id: str, state: ReplicaState | None = None) -> None:
        """The replica is alive (and, if given, in ``state``)."""
        with self.db.tx() as conn:
            now = self.db.clock(conn)
            if state:
                conn.execute(
                    "UPDATE replicas SET last_seen=?, state=? WHERE replica_id=?", (now, str(state), replica_id)
                )
            else:
                conn.execute("UPDATE replicas SET last_seen=? WHERE replica_id=?", (now, replica_id))

    def list(self, family: str | None = None) -> list[ReplicaRecord]:
        """Every replica that ever reported (stopped ones too), most recently seen first."""
        return [self.record(row) for row in self.rows(family)]

    def rows(self, family: str | None = None) -> list[Any]:
        """``list``'s rows as stored (their reports still JSON text: ``record`` parses one)."""
        sql, args = "SELECT * FROM replicas", []
        if family:
            sql += " WHERE family=?"
            args.append(family)
        return self.db.conn().execute(sql + " ORDER BY last_seen DESC", args).fetchall()

    @staticmethod
    def record(row: Any) -> ReplicaRecord:
        data = dict(row)
        data["diagnostics"] = json.loads(data.pop("diagnostics_json") or "null")
        data["models"] = json.loads(data.pop("models_json") or "null")
        return ReplicaRecord.model_validate(data)
