"""The durable state of the service: the job store's database (SQLite or PostgreSQL) and the artifacts.

- ``database``: the contract both backends keep; ``database_sqlite`` / ``database_postgres``: each one;
  ``backends``: which one a store opens; ``migrations``: the versioned schema
- ``records``: ``JobStatus`` (the one list of job states) and ``JobRecord`` (a job row)
- ``jobs`` (with ``job_endings``, ``job_scans``): the job state machine (create, claim, heartbeat,
  progress, finish, cancel, fail, leases, retry); it returns records, never the HTTP shape
- ``bounds``: the queue bounds, checked in the inserting transaction
- ``events``: the per-job change log that Server-Sent Events replay, and the watches that wake them
- ``replicas``: what each worker replica reports about itself
- ``housekeeping``: the one delete path (files, rows, events) and what retention removes
- ``job_store``: ``JobStore``, the database and the artifacts one replica opens

Nothing here imports the package on purpose (no import cycle through it).
"""
