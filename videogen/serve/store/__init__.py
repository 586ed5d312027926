"""The durable state of the service: one SQLite database and the MP4 files beside it.

- ``database``: the schema, a connection per thread, transactions
- ``records``: ``JobStatus`` (the one list of job states) and ``JobRecord`` (a job row)
- ``jobs``: the job state machine (create, claim, heartbeat, progress, finish,
  cancel, fail, leases, retry); it returns records, never the HTTP shape
- ``events``: the per-job change log that Server-Sent Events replay
- ``replicas``: what each worker replica reports about itself
- ``job_store``: ``JobStore``, the state directory with the three tables

Nothing here imports the package on purpose (no import cycle through it).
"""
