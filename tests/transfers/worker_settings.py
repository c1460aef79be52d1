"""Settings of the Celery worker processes started by test_worker.py: the test settings, the broker's
visibility timeout from the environment (short for the worker that must pick up a dead worker's task)."""

import os

from marketplace.settings.test import *  # noqa: F403

CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600"))}
# Each test session uses a queue of its own (tests/transfers/workers.py), so runs sharing Redis never
# take each other's tasks; the worker consumes it and queues its own follow-up work there too.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_TASK_DEFAULT_QUEUE", "celery")
