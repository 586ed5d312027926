"""Where a job's files live: videos, pictures, previews and uploaded inputs (the app config's ``artifacts:``).

- ``config``: ``ArtifactsConfig`` (``backend: local | s3``, bucket, prefix, endpoint, presigned downloads)
- ``base``: the one interface (``ArtifactStore``), the keys, and what a job does with it (upload before its
  result is committed, remove every file of it)
- ``local``: files under ``state_dir`` (the default; one node or a shared disk)
- ``s3``: any S3-compatible bucket, through obstore
- ``stores``: ``open_artifacts``, the store a config names

Nothing here imports the package on purpose (no import cycle through it).
"""
