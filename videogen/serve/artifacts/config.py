"""``artifacts:`` in the app config: where videos, pictures and uploaded inputs are kept.

``local`` (the default) keeps them as files under ``state_dir`` as before: one node, or a disk every node
mounts. ``s3`` keeps them in a bucket of any S3-compatible service (AWS S3, SeaweedFS, Ceph RGW, R2, ...),
so a job rendered on one node downloads through an ingress on another with no shared file system.
Credentials never enter the config: they are read in each replica from the environment (the AWS chain:
``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, a web identity, instance metadata) or from the env vars
named here (e.g. a Kubernetes secret mounted as env).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ArtifactBackend = Literal["local", "s3"]

# S3's own rule for bucket names (3-63 of lowercase letters, digits, dots and hyphens).
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ArtifactsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: ArtifactBackend = Field(
        default="local", description="local: files under state_dir (one node or a shared disk); s3: a bucket"
    )
    bucket: str | None = Field(default=None, description="s3: the bucket (required with backend s3)")
    prefix: str = Field(
        default="", max_length=512, description="s3: a key prefix inside the bucket, e.g. videogen/prod"
    )
    endpoint_url: str | None = Field(
        default=None, description="s3: the service's URL for a non-AWS store (e.g. http://127.0.0.1:8333); AWS: unset"
    )
    region: str = Field(default="us-east-1", min_length=1, max_length=64, description="s3: the bucket's region")
    allow_http: bool = Field(
        default=False, description="s3: allow a plain-HTTP endpoint_url (a loopback or in-cluster store without TLS)"
    )
    access_key_id_env: str | None = Field(
        default=None, description="s3: the env var holding the access key id (default: the AWS credential chain)"
    )
    secret_access_key_env: str | None = Field(
        default=None, description="s3: the env var holding the secret access key (set with access_key_id_env)"
    )
    presign_downloads: bool = Field(
        default=False,
        description="s3: downloads answer 307 to a presigned URL instead of streaming through the ingress",
    )
    presign_expiry_s: int = Field(default=900, ge=1, le=7 * 86400, description="how long a presigned URL stays valid")
    timeout_s: float = Field(default=60.0, gt=0, le=3600, description="s3: one request's timeout")
    max_retries: int = Field(default=3, ge=0, le=20, description="s3: retries of a failed request (connection, 5xx)")

    @field_validator("bucket")
    @classmethod
    def _bucket_name(cls, value: str | None) -> str | None:
        if value is not None and not _BUCKET.match(value):
            raise ValueError(
                f"artifacts.bucket: {value!r} is not a bucket name (3-63 lowercase letters, digits, '.' or '-')"
            )
        return value

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        value = value.strip("/")
        if any(part in ("", ".", "..") for part in value.split("/")) and value:
            raise ValueError(f"artifacts.prefix: {value!r} has an empty, '.' or '..' segment")
        return value

    @field_validator("access_key_id_env", "secret_access_key_env")
    @classmethod
    def _env_name(cls, value: str | None, info) -> str | None:
        if value is not None and not _ENV_NAME.match(value):
            raise ValueError(f"artifacts.{info.field_name}: {value!r} is not an environment variable name")
        return value

    @field_validator("endpoint_url")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^/\s]+/?$", value):
            raise ValueError(f"artifacts.endpoint_url: {value!r} is not http(s)://host[:port]")
        return value.rstrip("/") if value else value

    @model_validator(mode="after")
    def _consistent(self) -> ArtifactsConfig:
        if self.backend == "local":
            if self.presign_downloads:
                raise ValueError("artifacts.presign_downloads: needs backend s3 (a local file has no URL to sign)")
            return self
        if self.bucket is None:
            raise ValueError("artifacts.bucket: required with backend s3")
        if self.endpoint_url and self.endpoint_url.startswith("http://") and not self.allow_http:
            raise ValueError(
                f"artifacts.allow_http: endpoint_url {self.endpoint_url} is plain HTTP; set allow_http: true "
                "(meant for loopback or in-cluster stores) or use https"
            )
        if (self.access_key_id_env is None) != (self.secret_access_key_env is None):
            raise ValueError("artifacts.secret_access_key_env: name both access_key_id_env and secret_access_key_env")
        return self
