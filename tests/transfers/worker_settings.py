"""Settings of the Celery worker processes started by test_worker.py: the test settings, the broker's
visibility timeout from the environment (short for the worker that must pick up a dead worker's task)."""

import os

from marketplace.settings.test import *  # noqa: F403

CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600"))}
