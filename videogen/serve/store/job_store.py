"""``JobStore``: the state directory, opened once per replica.

The SQLite database (jobs, their event log, replica reports) and the videos
directory beside it. ``state_dir`` must be one file system shared by every
node, or a job written by one replica is invisible to the others.
"""

from __future__ import annotations

import os
from pathlib import Path

from videogen.serve.store.database import Database
from videogen.serve.store.events import EventLog
from videogen.serve.store.jobs import Jobs
from videogen.serve.store.replicas import Replicas


class JobStore:
    def __init__(self, state_dir: str | os.PathLike, journal_mode: str = "WAL"):
        self.state_dir = Path(state_dir)
        self.videos_dir = self.state_dir / "videos"
        self.videos_dir.mkdir(parents=True, exist_ok=True)
        self.db = Database(self.state_dir, journal_mode)
        self.events = EventLog(self.db)
        self.jobs = Jobs(self.db, self.events)
        self.replicas = Replicas(self.db)

    def video_path(self, job_id: str) -> Path:
        return self.videos_dir / f"{job_id}.mp4"

    def output_path(self, job_id: str, variant: str = "video") -> Path:
        """The MP4 (``video``) or a picture beside it (``thumbnail``, ``spritesheet``, ``preview``)."""
        from videogen.video.outputs import output_paths

        return output_paths(self.video_path(job_id))[variant]

    def remove_outputs(self, job_id: str) -> int:
        """Delete a job's video and pictures; returns how many files went."""
        from videogen.video.outputs import remove_outputs

        return len(remove_outputs(self.video_path(job_id)))

    def close(self) -> None:
        self.db.close()
