"""Which database the store opens: PostgreSQL when a URL is configured, else SQLite under ``state_dir``."""

from __future__ import annotations

import os

from videogen.serve.store.database import Database


def open_database(state_dir: str | os.PathLike, journal_mode: str = "WAL", database_url: str | None = None) -> Database:
    """The store's database, its schema brought up to date on open (``migrations``): PostgreSQL at
    ``database_url`` when one is given, else the SQLite file under ``state_dir``."""
    if database_url:
        from videogen.serve.store.database_postgres import PostgresDatabase

        return PostgresDatabase(database_url)
    from videogen.serve.store.database_sqlite import SqliteDatabase

    return SqliteDatabase(state_dir, journal_mode)
