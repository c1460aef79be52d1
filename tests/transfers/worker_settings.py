"""Settings of the Celery worker processes started by test_worker.py: the test settings, the broker's
visibility timeout from the environment (short for the worker that must pick up a dead worker's task)."""

import os

from marketplace.settings.test import *  # noqa: F403

CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600"))}
# Each test session uses a queue of its own (tests/transfers/workers.py), so runs sharing Redis never
# take each other's tasks; the worker consumes it and queues its own follow-up work there too.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_TASK_DEFAULT_QUEUE", "celery")

# A test hook: IPEX_TEST_PAUSE_TASK=<task name> makes this worker stop inside that task (after logging
# "paused in <name>"), so a test can kill -9 it at exactly that point.
if os.environ.get("IPEX_TEST_PAUSE_TASK"):
    import time as _time

    from celery.signals import task_prerun as _task_prerun

    @_task_prerun.connect(weak=False)
    def _pause(sender=None, **_kwargs):
        if sender is not None and sender.name == os.environ["IPEX_TEST_PAUSE_TASK"]:
            print(f"paused in {sender.name}", flush=True)
            _time.sleep(600)
