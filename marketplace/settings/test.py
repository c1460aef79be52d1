import os
import secrets

from .base import *  # noqa: F403
from .base import env

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
LISTINGS_CACHE_SECONDS = 0  # tests see every change at once (tests of the caching turn it on)
PUBLIC_PAGE_CACHE_SECONDS = 0
API_KEY_CACHE_SECONDS = 0  # every call reads its key (tests/api/test_key_cache.py turns the cache on)
SIMULATION_TIME_SCALE = env.float("SIMULATION_TIME_SCALE", default=0.0)
ACCOUNT_RATE_LIMITS = False
# A fresh secret each test run: never a value in the repository.
# (in os.environ, so worker processes started by the tests share it)
os.environ.setdefault("ESCROW_SIMULATED_WEBHOOK_SECRET", secrets.token_hex(32))
ESCROW_SIMULATED_WEBHOOK_SECRET = env("ESCROW_SIMULATED_WEBHOOK_SECRET")
# Code running outside a request (services, tasks) speaks English in tests, so assertions read the
# source strings; requests still follow the tenant's languages (its default is zh-hans).
LANGUAGE_CODE = "en"
# Appraisal report signatures: revocation information only from APPRAISAL_CRLS (no network in tests).
APPRAISAL_REVOCATION_FETCH = False
