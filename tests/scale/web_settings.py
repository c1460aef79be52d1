"""Settings of the web processes the stateless test starts: production's shape without TLS (base settings,
DEBUG off, sessions and cache in the database, uploads in the S3 bucket named by the environment), plus the
test password hasher (the factories' users) and static files served from the source folders."""

import environ

from marketplace.settings.base import *  # noqa: F403
from marketplace.settings.storage import object_storage

DEBUG = False
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True  # no broker needed; notifications are written by the process itself
WHITENOISE_USE_FINDERS = True
STORAGES = {**STORAGES, "default": object_storage(environ.Env()) or STORAGES["default"]}  # noqa: F405
PRIVATE_FILES_SIGNED_URLS = True
SIMULATION_TIME_SCALE = 0.0
