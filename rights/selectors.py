"""Reads of rights for other apps: who holds a right now, and whether an organization gave it away."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Holding, RegisterRecord


def holdings_of(organization, *, current=True):
    qs = Holding.objects.filter(organization=organization).select_related("record")
    if current:
        qs = qs.filter(ended_at__isnull=True)
    return qs.order_by("record__jurisdiction", "record__kind", "record__number")


def transferred_away(*, records, organization) -> list[Holding]:
    """The ended holdings showing that `organization` transferred these rights away on this exchange
    (and holds none of them again since)."""
    ids = [r.pk for r in records if r is not None]
    if not ids:
        return []
    ended = list(Holding.objects.filter(organization=organization, record_id__in=ids, ended_at__isnull=False)
                 .select_related("record", "transferred_to").order_by("record_id", "-ended_at"))
    holding_again = set(Holding.objects.filter(organization=organization, record_id__in=ids, ended_at__isnull=True)
                        .values_list("record_id", flat=True))
    out, seen = [], set()
    for h in ended:
        if h.record_id in holding_again or h.record_id in seen:
            continue
        seen.add(h.record_id)
        out.append(h)
    return out


def transfer_refusal_message(holding: Holding) -> str:
    """What the seller reads when they try to list a right they transferred away."""
    return _("%(number)s was transferred to %(buyer)s on %(date)s (recorded transfer %(reference)s); the register "
             "now names %(owner)s, so your organization can no longer list it.") % {
        "number": f"{holding.record.jurisdiction} {holding.record.number}",
        "buyer": holding.transferred_to_name or (holding.transferred_to and holding.transferred_to.legal_name) or "?",
        "date": holding.ended_at.date().isoformat() if holding.ended_at else "?",
        "reference": holding.ended_reference or "-",
        "owner": holding.record.owner_name,
    }


def verified_for_lookup(qs=None):
    """Register records anyone may find: everything except certificate entries still awaiting a verifier."""
    qs = qs if qs is not None else RegisterRecord.objects.all()
    return qs.filter(awaiting_verification=False)


def status_history(records) -> dict[int, list[dict]]:
    """{record id: [{"date", "before", "after"}, ...] oldest first}: the register's status changes of these
    rights as rights monitoring saw them (its status/lapse alerts, on every exchange: register facts, no
    holder is named). The same change seen by several holdings counts once. One query."""
    from .models import Alert

    ids = [r.pk for r in records if r is not None]
    if not ids:
        return {}
    rows = (Alert.objects.unscoped()
            .filter(record_id__in=ids, kind__in=[Alert.Kind.STATUS, Alert.Kind.LAPSE])
            .order_by("created_at", "id").values_list("record_id", "key", "created_at"))
    out: dict[int, list[dict]] = {i: [] for i in ids}
    seen: set[tuple] = set()
    for record_id, key, created_at in rows:
        before, _sep, after = key.partition(">")
        day = timezone.localdate(created_at)
        if not after or (record_id, key, day) in seen:
            continue
        seen.add((record_id, key, day))
        out[record_id].append({"date": day, "before": before, "after": after})
    return out
