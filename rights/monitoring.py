"""Monitoring: every held right is re-checked against its register on a schedule whose cost follows
what is due (like the transfer poller): only holdings with `next_check_at <= now` are read (partial
index `holding_due`), in batches claimed with `FOR UPDATE SKIP LOCKED` so two workers never check the
same right, each batch its own transaction. A register that does not answer backs the holding off
(one hour doubling, at most a day) without blocking the others.

Detected events become `Alert` rows at most once per (holding, kind, key) — a unique constraint — so
a cycle that runs twice (or a retried task) creates nothing new. Each new alert is announced through
`core.events` ("right.alert"): notifications, e-mail digests and partner webhooks react there.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from core.errors import DomainError
from core.events import emit
from core.notifications import Message

from .fees import fees_for
from .models import Alert, Holding, LegalStatus
from .registry import get_register
from .services import holding_fees_store

log = logging.getLogger(__name__)

CHECK_INTERVAL = datetime.timedelta(days=1)
FEE_NOTICE_DAYS = 90  # a fee due within 90 days becomes an alert


@dataclass
class MonitorStats:
    batches: int = 0
    checked: int = 0
    alerts: int = 0
    unavailable: int = 0
    kinds: dict = field(default_factory=dict)


def snapshot_of(record) -> dict:
    return {"status": record.legal_status, "owner": record.owner_name,
            "paid_through": record.renewal_paid_through.isoformat() if record.renewal_paid_through else None,
            "encumbrances": sorted(str(e.get("reference") or e.get("holder") or "") for e in record.encumbrances or []),
            "opposition": bool((record.raw or {}).get("opposition"))}


ENCUMBRANCE_WORDS = {
    "pledge": gettext_lazy("pledge"), "licence": gettext_lazy("licence"),
    "exclusive_licence": gettext_lazy("exclusive licence"), "sole_licence": gettext_lazy("sole licence"),
    "non_exclusive_licence": gettext_lazy("non-exclusive licence"),
}


def _status_word(status):
    return LegalStatus(status).label if status in LegalStatus.values else (status or "")


def events_for(holding, record, previous: dict, today: datetime.date) -> list[dict]:
    """What changed since the last check, and fees due soon or overdue, as alert data. `message` and
    `action` are `Message`s (untranslated text + parameters): each reader reads them in their language."""
    label = f"{record.jurisdiction} {record.number}"
    out = []
    if previous:
        if record.legal_status != previous.get("status"):
            lapsed = record.legal_status in (LegalStatus.LAPSED, LegalStatus.EXPIRED)
            out.append({
                "kind": Alert.Kind.LAPSE if lapsed else Alert.Kind.STATUS,
                "key": f"{previous.get('status')}>{record.legal_status}",
                "message": Message(gettext_lazy("%(right)s is now “%(status)s” in the register (was “%(before)s”)."), {
                    "right": label, "status": _status_word(record.legal_status),
                    "before": _status_word(previous.get("status"))}),
                "action": Message(gettext_lazy("Check the register; a lapse for unpaid fees can often be restored "
                                               "within the office's late period.") if lapsed else "")})
        if previous.get("owner") and record.owner_name != previous.get("owner"):
            out.append({"kind": Alert.Kind.ASSIGNMENT, "key": f"owner:{record.owner_name}"[:120],
                        "message": Message(gettext_lazy(
                            "The register now names %(owner)s as owner of %(right)s (was %(before)s)."), {
                            "owner": record.owner_name, "right": label, "before": previous.get("owner")}),
                        "action": Message(gettext_lazy(
                            "If your organization did not transfer this right, contact the office at once."))})
        known = set(previous.get("encumbrances") or [])
        for enc in record.encumbrances or []:
            ref = str(enc.get("reference") or enc.get("holder") or "")
            if ref in known:
                continue
            kind = Alert.Kind.PLEDGE if enc.get("type") == "pledge" else Alert.Kind.LICENCE
            enc_type = str(enc.get("type", ""))
            out.append({"kind": kind, "key": ref[:120],
                        "message": Message(gettext_lazy("A %(type)s in favour of %(holder)s was recorded on %(right)s."), {
                            "type": ENCUMBRANCE_WORDS.get(enc_type, enc_type.replace("_", " ")),
                            "holder": enc.get("holder", "?"), "right": label}),
                        "action": Message("")})
        if (record.raw or {}).get("opposition") and not previous.get("opposition"):
            out.append({"kind": Alert.Kind.OPPOSITION, "key": "opposition",
                        "message": Message(gettext_lazy("An opposition or invalidation was filed against %(right)s."),
                                           {"right": label}),
                        "action": Message(gettext_lazy("Answer within the office's time limit; ask your attorney."))})
    for fee in fees_for(record, today=today, horizon_years=1):
        status = fee.status_on(today)
        if status == "due" and (fee.due - today).days <= FEE_NOTICE_DAYS:
            out.append({"kind": Alert.Kind.FEE_DUE, "key": f"{fee.label}:{fee.due.isoformat()}", "due_by": fee.due,
                        "message": Message(gettext_lazy("%(right)s: %(label)s of %(amount)s %(currency)s is due on %(due)s."), {
                            "right": label, "label": fee.label_message, "amount": f"{fee.amount_minor / 100:,.2f}",
                            "currency": fee.currency, "due": fee.due.isoformat()}),
                        "action": Message(gettext_lazy("Pay it at the office before the due date."))})
        elif status == "overdue":
            out.append({"kind": Alert.Kind.FEE_OVERDUE, "key": f"{fee.label}:{fee.due.isoformat()}",
                        "due_by": fee.grace_until,
                        "message": Message(gettext_lazy(
                            "%(right)s: %(label)s was due on %(due)s and is unpaid; it can still be paid "
                            "with a surcharge until %(grace)s, then the right lapses."), {
                            "right": label, "label": fee.label_message, "due": fee.due.isoformat(),
                            "grace": fee.grace_until.isoformat()}),
                        "action": Message(gettext_lazy("Pay the fee and the surcharge before %(grace)s."), {
                            "grace": fee.grace_until.isoformat()})})
    return out


def _backoff(attempts: int) -> datetime.timedelta:
    return datetime.timedelta(seconds=min(3600 * 2 ** min(attempts, 10), 86400))


def monitor_due(*, batch_size: int = 200, max_batches: int = 50, now=None) -> MonitorStats:
    """One monitoring cycle for the tenant in context: due holdings only, in SKIP LOCKED batches."""
    stats = MonitorStats()
    now = now or timezone.now()
    today = timezone.localdate(now)
    register = get_register()
    for _batch in range(max_batches):
        with transaction.atomic():
            batch = list(Holding.objects.select_for_update(skip_locked=True, of=("self",))
                         .filter(ended_at__isnull=True, next_check_at__lte=now)
                         .select_related("record", "organization").order_by("next_check_at", "id")[:batch_size])
            if not batch:
                break
            stats.batches += 1
            created_alerts = []
            checked, fresh_records = [], {}
            answers = register.get_many([h.record for h in batch])  # one query for the embedded register
            for holding in batch:
                fresh = answers.get(holding.record_id)
                holding.updated_at = now
                if isinstance(fresh, DomainError):  # the register is down: back off this right, carry on
                    stats.unavailable += 1
                    holding.check_attempts += 1
                    holding.next_check_at = now + _backoff(holding.check_attempts)
                    log.info("monitor: %s unavailable: %s", holding.record, fresh.message)
                    continue
                record = fresh or holding.record
                for event in events_for(holding, record, holding.snapshot or {}, today):
                    alert = _create_once(holding, record, event)
                    if alert is not None:
                        created_alerts.append(alert)
                        stats.kinds[alert.kind] = stats.kinds.get(alert.kind, 0) + 1
                holding.snapshot = snapshot_of(record)
                holding.check_attempts = 0
                holding.last_checked_at = now
                holding.next_check_at = now + CHECK_INTERVAL
                checked.append(holding)
                fresh_records[holding.pk] = record
                stats.checked += 1
            Holding.objects.bulk_update(batch, ["snapshot", "check_attempts", "last_checked_at", "next_check_at",
                                                "updated_at"])  # one query per batch
            holding_fees_store(holdings=checked, records=fresh_records, today=today)  # two queries per batch
            stats.alerts += len(created_alerts)
            _notify_members(created_alerts)
            for alert in created_alerts:
                transaction.on_commit(lambda a=alert: emit(
                    "right.alert", organizations=[a.organization],
                    data={"alert": a.pk, "kind": a.kind, "record": a.record_id, "number": a.record.number,
                          "message": a.message, "action": a.action,
                          # the same, to render in each reader's language (core.notifications.Message)
                          "message_i18n": Message.restore(a.message_source, a.params).stored(),
                          "action_i18n": Message.restore(a.action_source, a.params).stored(),
                          "due_by": a.due_by.isoformat() if a.due_by else None}))
    return stats


URGENT = (Alert.Kind.LAPSE, Alert.Kind.FEE_OVERDUE, Alert.Kind.ASSIGNMENT, Alert.Kind.OPPOSITION)


def _notify_members(alerts):
    """Each member of the holder as they chose (`AlertPreference`): the kinds they get, in the site;
    by e-mail at once for urgent kinds (the default) or for all they get, or in the daily digest
    (`alert_digests_send`), or not at all. One query for the members and one for their choices."""
    from accounts.models import Membership
    from core.notifications import notify

    from .models import AlertPreference

    if not alerts:
        return
    org_ids = {a.organization_id for a in alerts}
    members: dict[int, list] = {}
    for m in Membership.objects.filter(organization_id__in=list(org_ids)).select_related("user"):
        members.setdefault(m.organization_id, []).append(m.user)
    prefs = {(p.organization_id, p.user_id): p for p in AlertPreference.objects.filter(organization_id__in=org_ids)}
    for alert in alerts:
        at_once, site_only = [], []
        for user in members.get(alert.organization_id, []):
            pref = prefs.get((alert.organization_id, user.pk))
            if pref is not None and not pref.gets(alert.kind):
                continue
            email = pref.email if pref is not None else AlertPreference.Email.URGENT
            immediate = email == AlertPreference.Email.IMMEDIATE or (
                email == AlertPreference.Email.URGENT and alert.kind in URGENT)
            (at_once if immediate else site_only).append(user)
        for users, email in ((at_once, True), (site_only, False)):
            if users:
                notify(users=users, kind=f"right.{alert.kind}", subject=gettext_lazy("%(right)s: %(what)s"),
                       body=gettext_lazy("%(message)s %(action)s"),
                       params={"right": f"{alert.record.jurisdiction} {alert.record.number}",
                               "what": Alert.Kind(alert.kind).label, "message": alert.message_obj,
                               "action": alert.action_obj}, url="/portfolio/", email=email)


def _create_once(holding, record, event) -> Alert | None:
    """The alert keeps the event (message ids + parameters) and, for the admin and webhooks, the text as
    written now (the worker's language)."""
    message, action = event["message"], event.get("action") or Message("")
    try:
        with transaction.atomic():
            return Alert.objects.create(organization=holding.organization, holding=holding, record=record,
                                        kind=event["kind"], key=event["key"], message=str(message),
                                        action=str(action), message_source=message.source,
                                        action_source=action.source, params={**message.params, **action.params},
                                        due_by=event.get("due_by"))
    except IntegrityError:
        return None  # already alerted (this cycle ran before)
