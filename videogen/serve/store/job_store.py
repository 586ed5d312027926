"""``JobStore``: the job store and the artifacts, opened once per replica.

The database (jobs, their event log, replica reports): PostgreSQL at ``database_url``, shared by every
node, or SQLite under ``state_dir`` (one node, or a file system every node shares); and the videos
beside it (``videogen.serve.artifacts``).
"""

from __future__ import annotations

import os
from pathlib import Path

from videogen.paths import node_state_dir
from videogen.serve.artifacts.config import ArtifactsConfig
from videogen.serve.artifacts.stores import open_artifacts
from videogen.serve.config import DATABASE_URL_ENV
from videogen.serve.replica_settings import database_url_of
from videogen.serve.store.backends import open_database
from videogen.serve.store.events import EventLog
from videogen.serve.store.jobs import Jobs
from videogen.serve.store.replicas import Replicas


class JobStore:
    def __init__(
        self,
        state_dir: str | os.PathLike,
        journal_mode: str = "WAL",
        artifacts: ArtifactsConfig | None = None,
        database_url: str | None = None,
    ):
        self.state_dir = Path(state_dir)
        # Videos, pictures and uploaded inputs (videogen.serve.artifacts): files under state_dir, or a bucket.
        self.artifacts = open_artifacts(artifacts, self.state_dir)
        self.videos_dir = self.artifacts.videos_dir  # where a worker renders (and local files stay)
        # The jobs, their events and the replica reports: PostgreSQL at database_url, else SQLite in state_dir.
        self.db = open_database(self.state_dir, journal_mode, database_url)
        self.events = EventLog(self.db)
        self.jobs = Jobs(self.db, self.events)
        self.replicas = Replicas(self.db)

    def video_path(self, job_id: str) -> Path:
        """Where the job's MP4 is rendered on this node (the local backend keeps it there)."""
        return self.artifacts.render_path(job_id)

    def remove_outputs(self, job_id: str) -> int:
        """Delete a job's video, pictures and uploaded inputs wherever they are kept (the one removal hook:
        retention, delete, a job deleted while it ran); returns how many files or objects went."""
        return self.artifacts.remove_job(job_id)

    def close(self) -> None:
        self.db.close()


def open_replica_store(
    state_dir: str, journal_mode: str, artifacts: ArtifactsConfig | None, database_url: str | None
) -> JobStore:
    """The store a replica opens: ``state_dir`` as this node sees it, ``database_url`` (the config's, else
    ``$VIDEOGEN_DATABASE_URL`` here). A per-node ``state_dir`` (a variable each node sets) means no disk is shared:
    SQLite files there would split the jobs between nodes and local videos could only be fetched from the node that
    rendered them, so such a replica refuses to start instead of serving half the jobs."""
    url = database_url_of(database_url)
    if "$" in state_dir:
        if url is None:
            raise ValueError(
                f"state_dir {state_dir!r} is each node's own: the job store must be shared, so set database_url "
                f"(or ${DATABASE_URL_ENV}) to a PostgreSQL database"
            )
        if artifacts is None or artifacts.backend != "s3":
            raise ValueError(
                f"state_dir {state_dir!r} is each node's own: videos must be kept where every node reads them, so "
                "set artifacts.backend to s3 (a bucket)"
            )
    return JobStore(node_state_dir(state_dir), journal_mode, artifacts, database_url=url)
