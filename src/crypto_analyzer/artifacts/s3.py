"""S3-compatible artifact store (AWS S3, MinIO, Cloudflare R2, …) through boto3.

Create-only uses a conditional write: ``PutObject`` with ``If-None-Match: *`` is refused with
412 when the key exists, so two writers can never overwrite each other. ``gs://`` URLs use the same
client against Google Cloud Storage's S3-interoperable XML endpoint (HMAC keys in the usual AWS
variables); create-only there depends on the endpoint honouring ``If-None-Match``, and the base
class still verifies the stored bytes' hash after a refused write.
"""

from __future__ import annotations

from typing import Any, BinaryIO, cast

from crypto_analyzer.artifacts.location import parse_bucket_url
from crypto_analyzer.artifacts.store import MAX_KEY_BYTES, ArtifactStore
from crypto_analyzer.core.errors import ArtifactStoreError, ConfigError
from crypto_analyzer.core.hashing import sha256_stream

__all__ = ["GCS_ENDPOINT", "S3ArtifactStore"]

GCS_ENDPOINT = "https://storage.googleapis.com"


def _client(endpoint_url: str | None, region: str | None) -> Any:
    try:
        import boto3
        from botocore.config import Config
    except ImportError as exc:
        raise ConfigError(
            "the S3 artifact store needs boto3",
            "install the extra: pip install 'crypto-analyzer[s3]'",
        ) from exc
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=region or "us-east-1",
        config=Config(retries={"max_attempts": 5, "mode": "standard"}),
    )


class S3ArtifactStore(ArtifactStore):
    """Artifacts as objects under ``s3://bucket/prefix``."""

    def __init__(
        self,
        url: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        client: Any = None,
    ) -> None:
        location = parse_bucket_url(url)
        assert location.bucket is not None
        super().__init__(url)
        self.bucket = location.bucket
        self.prefix = location.prefix
        self._s3 = client or _client(endpoint_url, region)

    @classmethod
    def from_url(cls, url: str, **options: Any) -> S3ArtifactStore:
        return cls(url, endpoint_url=options.get("endpoint_url"), region=options.get("region"))

    @classmethod
    def check_url(cls, url: str) -> tuple[bool, str]:
        """Offline check for ``doctor``: the URL names a bucket (reachability is not probed)."""
        location = parse_bucket_url(url)
        return True, f"{location.scheme} bucket {location.bucket!r}, prefix {location.prefix!r}"

    @classmethod
    def from_gcs_url(cls, url: str, **options: Any) -> S3ArtifactStore:
        return cls(url, endpoint_url=options.get("endpoint_url") or GCS_ENDPOINT, region="auto")

    @property
    def max_key_bytes(self) -> int:
        """S3's 1,024-byte object-key limit, less what the store's prefix takes."""
        return MAX_KEY_BYTES - (len(self.prefix.encode("utf-8")) + 1 if self.prefix else 0)

    def _object_key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def _error_code(self, exc: Exception) -> str:
        return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))

    def _create(self, key: str, data: bytes) -> bool:
        return self._put_object(key, data)

    def _create_from(self, key: str, stream: BinaryIO) -> tuple[bool, str, int]:
        """One pass to hash the file, then the file itself as the request body: botocore
        sends (and, on a retry, re-reads) it from disk a block at a time."""
        digest, size = sha256_stream(stream)
        stream.seek(0)
        return self._put_object(key, stream, size), digest, size

    def _put_object(self, key: str, body: bytes | BinaryIO, size: int | None = None) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        extra = {} if size is None else {"ContentLength": size}
        try:
            self._s3.put_object(
                Bucket=self.bucket, Key=self._object_key(key), Body=body, IfNoneMatch="*", **extra
            )
        except ClientError as exc:
            if self._error_code(exc) in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
                return False
            raise ArtifactStoreError(f"cannot write {self.uri_for(key)}: {exc}") from exc
        except BotoCoreError as exc:  # endpoint unreachable, credentials missing, …
            raise ArtifactStoreError(f"cannot write {self.uri_for(key)}: {exc}") from exc
        return True

    def _read(self, key: str) -> bytes | None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self._s3.get_object(Bucket=self.bucket, Key=self._object_key(key))
        except ClientError as exc:
            if self._error_code(exc) in ("NoSuchKey", "404", "NotFound"):
                return None
            raise ArtifactStoreError(f"cannot read {self.uri_for(key)}: {exc}") from exc
        except BotoCoreError as exc:
            raise ArtifactStoreError(f"cannot read {self.uri_for(key)}: {exc}") from exc
        return bytes(response["Body"].read())

    def _open(self, key: str) -> BinaryIO | None:
        """The response body as it arrives (botocore StreamingBody: ``read(n)``, ``close``)."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self._s3.get_object(Bucket=self.bucket, Key=self._object_key(key))
        except ClientError as exc:
            if self._error_code(exc) in ("NoSuchKey", "404", "NotFound"):
                return None
            raise ArtifactStoreError(f"cannot read {self.uri_for(key)}: {exc}") from exc
        except BotoCoreError as exc:
            raise ArtifactStoreError(f"cannot read {self.uri_for(key)}: {exc}") from exc
        return cast(BinaryIO, response["Body"])

    def _exists(self, key: str) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._s3.head_object(Bucket=self.bucket, Key=self._object_key(key))
        except ClientError as exc:
            if self._error_code(exc) in ("NoSuchKey", "404", "NotFound"):
                return False
            raise ArtifactStoreError(f"cannot stat {self.uri_for(key)}: {exc}") from exc
        except BotoCoreError as exc:
            raise ArtifactStoreError(f"cannot stat {self.uri_for(key)}: {exc}") from exc
        return True

    def _list(self, prefix: str) -> list[str]:
        from botocore.exceptions import BotoCoreError, ClientError

        base = f"{self.prefix}/" if self.prefix else ""
        keys: list[str] = []
        paginator = self._s3.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=base + prefix):
                keys.extend(item["Key"][len(base) :] for item in page.get("Contents", []))
        except (BotoCoreError, ClientError) as exc:
            raise ArtifactStoreError(f"cannot list {self.uri_for(prefix)}: {exc}") from exc
        return keys
