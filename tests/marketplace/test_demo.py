"""`make run` loads the demo data: every app's part runs, and running it again changes nothing."""

from django.apps import apps

from core.models import Tenant
from marketplace.demo import seed_all


def _counts():
    return {m._meta.label: (m.objects.unscoped() if hasattr(m.objects, "unscoped") else m.objects).count()
            for m in apps.get_models() if m._meta.app_label not in ("sessions", "admin", "contenttypes")}


def test_demo_data_loads_and_a_second_run_changes_nothing(db):
    seed_all()
    assert set(Tenant.objects.values_list("slug", flat=True)) >= {"zgc", "gba"}
    first = _counts()
    seed_all()
    second = _counts()
    changed = {label: (first[label], second[label]) for label in first if first[label] != second[label]}
    assert not changed
