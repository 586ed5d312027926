"""The job store away for a while (a PostgreSQL restart) is nobody's fault: no replica is replaced for it, no
running job is cancelled, retried or lost for it (issue 18; the multi-node test restarts a real server).

Here without Ray: the errors are the ones the backends raise (psycopg_pool's ``PoolTimeout`` when no connection
comes back in time, SQLite's "database is locked"), and the reaper runs on a real SQLite store.
"""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from psycopg_pool import PoolTimeout
from testkit import queue_job

from videogen.serve.config import VideoGenAppConfig
from videogen.serve.service.videogen_service import VideoGenService
from videogen.serve.store.records import JobStatus
from videogen.serve.store_health import StopCheck, StoreHealth, until_store_answers


def _away():
    raise PoolTimeout("couldn't get a connection after 5.00 sec")


def test_a_health_check_passes_while_the_store_is_away_and_fails_on_real_breakage():
    health = StoreHealth("test replica")
    health.probe(_away)
    health.probe(lambda: (_ for _ in ()).throw(sqlite3.OperationalError("database is locked")))
    assert health.outage["failed_checks"] == 2 and health.outage["code"] == "store_busy"
    health.probe(lambda: None)  # back
    assert health.outage is None and health.last_outage["until"] >= health.last_outage["since"]
    assert health.describe()["last_outage"]["failed_checks"] == 2
    with pytest.raises(RuntimeError, match="state store unusable"):  # the replica's own: Serve replaces it
        health.probe(lambda: (_ for _ in ()).throw(sqlite3.DatabaseError("file is not a database")))


def test_a_running_job_goes_on_while_the_store_is_away():
    calls = []

    def cancel_flag():
        calls.append(1)
        if len(calls) == 1:
            _away()
        return True

    stop = StopCheck(cancel_flag, retry_s=60)
    assert [stop(), stop(), stop()] == [False, False, False]  # away: not stopped, and not asked at every step
    assert len(calls) == 1
    stop = StopCheck(lambda: (_ for _ in ()).throw(ValueError("a bug")))
    with pytest.raises(ValueError):
        stop()


def test_a_jobs_end_is_written_once_the_store_is_back():
    tries = []

    def finish():
        tries.append(1)
        if len(tries) < 3:
            _away()
        return True

    assert until_store_answers(finish, interval_s=0.01) is True and len(tries) == 3
    with pytest.raises(PoolTimeout):
        until_store_answers(_away, interval_s=0.01, give_up_s=0.05)
    with pytest.raises(KeyError):  # anything else is not waited out
        until_store_answers(lambda: {}["x"], interval_s=0.01)


def test_after_an_outage_the_reaper_judges_heartbeats_only_once_it_has_watched_a_whole_timeout(tmp_path, monkeypatch):
    """Heartbeats could not land while the store was away: a running job must not look dead right after."""

    async def main():
        cfg = VideoGenAppConfig(families=["wan"], state_dir=str(tmp_path), heartbeat_timeout_s=3)
        svc = VideoGenService(cfg, workers={})
        jobs = svc.store.jobs
        rec = queue_job(svc.store, params={"num_inference_steps": 2}, lease_s=0)
        claim = jobs.claim(rec.id, {"replica_id": "alive-but-unheard"})
        svc.store.db.conn().execute("UPDATE jobs SET heartbeat_at=0 WHERE id=?", (rec.id,))
        with monkeypatch.context() as m:
            m.setattr(jobs, "expire_queued", lambda *a, **k: _away())
            await svc.dispatcher.reap_pass()  # the store is away: the pass fails, the reaper notes it
        await svc.dispatcher.reap_pass()  # back: the heartbeat is old, but only because the store was away
        assert jobs.get(rec.id).status == JobStatus.RUNNING and jobs.get(rec.id).claim_token == claim.claim_token
        svc.dispatcher._store_back_at -= cfg.heartbeat_timeout_s  # reachable for a whole timeout since
        await svc.dispatcher.reap_pass()
        requeued = jobs.get(rec.id)  # (then failed: this app has no worker to dispatch it to)
        assert requeued.history and "heartbeat" in requeued.history[0]["reason"]

    asyncio.run(main())
