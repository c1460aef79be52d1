"""Production: every secret from the environment; passes `manage.py check --deploy`."""

from .base import *  # noqa: F403
from .base import env
from .storage import object_storage

DEBUG = False
SECRET_KEY = env("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL_SCHEME = env("SITE_URL_SCHEME", default="https")
SITE_PORT = env("SITE_PORT", default="")
# The simulated payment page lets the payer approve their own payment: off unless explicitly asked for.
ESCROW_SIMULATED_PAYMENTS = env.bool("ESCROW_SIMULATED_PAYMENTS", default=False)
# Uploads and generated papers: the S3-compatible bucket named by AWS_STORAGE_BUCKET_NAME (settings/
# storage.py), so any number of web and worker machines share them; without one, the local MEDIA_ROOT
# (a single machine, or a volume shared by every process as in docker-compose.yml).
STORAGES = {
    "default": object_storage(env) or {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# With a bucket, private files leave through short-lived signed URLs after the view's permission check.
PRIVATE_FILES_SIGNED_URLS = env.bool("PRIVATE_FILES_SIGNED_URLS", default=STORAGES["default"]["BACKEND"] != (
    "django.core.files.storage.FileSystemStorage"))
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# Only for trying the stack over plain http on a laptop; `check --deploy` warns when false.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=True)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
CONN_MAX_AGE = env.int("CONN_MAX_AGE", default=60)
for _alias in DATABASES:  # noqa: F405
    DATABASES[_alias]["CONN_MAX_AGE"] = CONN_MAX_AGE  # noqa: F405
