"""Object storage for uploads and generated papers (production; development keeps the local disk).

With `AWS_STORAGE_BUCKET_NAME` set, the default storage is django-storages' S3 backend, which speaks to
AWS S3 or any S3-compatible store (MinIO, Ceph, Cloudflare R2, Aliyun OSS in S3 mode) at
`AWS_S3_ENDPOINT_URL`. Objects are private (no ACL is set: the bucket's own policy, which must not be
public, applies), never overwritten (a signed paper keeps its bytes), and URLs are signed for
`PRIVATE_FILES_URL_SECONDS`. Credentials come from the environment (`AWS_ACCESS_KEY_ID`,
`AWS_SECRET_ACCESS_KEY`) or the instance role, the way boto3 finds them.
"""


def object_storage(env) -> dict | None:
    """The `STORAGES["default"]` entry for the bucket named in the environment, or None without one."""
    bucket = env("AWS_STORAGE_BUCKET_NAME", default="")
    if not bucket:
        return None
    options = {
        "bucket_name": bucket,
        "endpoint_url": env("AWS_S3_ENDPOINT_URL", default="") or None,
        "region_name": env("AWS_S3_REGION_NAME", default="") or None,
        "location": env("AWS_LOCATION", default=""),
        "default_acl": None,
        "file_overwrite": False,
        "querystring_auth": True,
        "querystring_expire": env.int("PRIVATE_FILES_URL_SECONDS", default=60),
        "signature_version": "s3v4",
        "addressing_style": env("AWS_S3_ADDRESSING_STYLE", default="") or None,
        "object_parameters": {"CacheControl": "private, no-store"},
    }
    encryption = env("AWS_S3_SERVER_SIDE_ENCRYPTION", default="")
    if encryption:
        options["object_parameters"]["ServerSideEncryption"] = encryption
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}
