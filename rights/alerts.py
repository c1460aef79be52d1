"""Members' choices of the alerts they get, and the daily e-mail digest.

- `alert_preference_set`: a member chooses the kinds of alert and how they are e-mailed (at once for
  urgent ones — the default —, at once for all, in a daily digest, never); only for themselves, only
  for an organization they belong to.
- `alert_digests_send` (beat `rights-alert-digests`, daily): each member who chose the digest gets
  one e-mail with the alerts of their organization (of the kinds they chose) since their last digest,
  in their language. Each member's row is claimed with SKIP LOCKED and `last_digest_at` moves in the
  same transaction, so two workers or a retried task never send the same alerts twice.
- Read/unread, per member (not per organization): `member_alerts` (the latest alerts of the kinds the
  member gets, each marked read or new, and the number of new ones: two queries), `alert_mark_read`
  (one), `alerts_mark_all_read` (every alert up to the newest one the member has seen: the member's
  `alerts_read_through` moves, their single reads below it are dropped).
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.audit import audit_record
from core.errors import NotAllowed, ValidationFailed
from core.permissions import is_member

from .models import Alert, AlertPreference, AlertRead

log = logging.getLogger(__name__)
DIGEST_MAX_ALERTS = 200


@transaction.atomic
def alert_preference_set(*, actor, organization, kinds, email: str) -> AlertPreference:
    if not is_member(actor, organization):
        raise NotAllowed(_("Only members of the organization choose its alerts."))
    kinds = sorted(set(kinds or []))
    unknown = [k for k in kinds if k not in Alert.Kind.values]
    if unknown or email not in AlertPreference.Email.values:
        raise ValidationFailed(_("Choose the alerts and the e-mail option from the lists."))
    if set(kinds) == set(Alert.Kind.values):
        kinds = []  # all of them: also the kinds added later
    pref, _created = AlertPreference.objects.select_for_update().get_or_create(
        user=actor, organization=organization, defaults={"kinds": kinds, "email": email})
    before = {"kinds": pref.kinds, "email": pref.email}
    pref.kinds, pref.email = kinds, email
    if email == AlertPreference.Email.DIGEST and pref.last_digest_at is None:
        pref.last_digest_at = timezone.now()  # the first digest covers what comes from now on
    pref.save()
    audit_record(actor=actor, action="right.alert_preferences", obj=pref,
                 data={"from": before, "to": {"kinds": kinds, "email": email}})
    return pref


# --- read / unread, per member ---------------------------------------------------------------------


def member_alerts(*, user, organization, limit: int = 20) -> tuple[list[Alert], int]:
    """The latest `limit` alerts of the organization of the kinds this member gets, each with `is_read`
    for this member, and how many of them (all, not only the shown ones) this member has not read.
    One query whatever the number of alerts (the member's choices and read mark are subqueries)."""
    from django.contrib.postgres.fields import ArrayField
    from django.db.models import (
        BigIntegerField,
        CharField,
        Count,
        Exists,
        Func,
        IntegerField,
        OuterRef,
        Q,
        Subquery,
    )
    from django.db.models.functions import Coalesce

    pref = AlertPreference.objects.filter(user=user, organization=organization)
    through = Coalesce(Subquery(pref.values("alerts_read_through")[:1], output_field=BigIntegerField()), 0)
    own_kind = Func(OuterRef("kind"), template="ARRAY[%(expressions)s]::varchar(20)[]",
                    output_field=ArrayField(CharField(max_length=20)))
    alerts = Alert.objects.filter(organization=organization).filter(  # no choice (or all kinds) = every kind
        ~Exists(pref.exclude(kinds=[])) | Exists(pref.filter(kinds__contains=own_kind)))
    read = AlertRead.objects.filter(user=user, alert=OuterRef("pk"))
    unread = (alerts.filter(id__gt=through).exclude(Exists(read)).order_by().values("organization")
              .annotate(n=Count("id")).values("n"))
    rows = list(alerts.select_related("record").annotate(
        is_read=Q(id__lte=through) | Exists(read),
        unread_total=Coalesce(Subquery(unread[:1], output_field=IntegerField()), 0))
        .order_by("-created_at", "-id")[:limit])
    return rows, (rows[0].unread_total if rows else 0)


def _member_only(actor, organization) -> None:
    if not is_member(actor, organization):
        raise NotAllowed(_("Only members of the organization read its alerts."))


@transaction.atomic
def alert_mark_read(*, actor, organization, alert_id: int) -> bool:
    """This member has read this alert of their organization (again: nothing changes). False when there
    is no such alert of the organization (another organization's, another exchange's, none)."""
    _member_only(actor, organization)
    alert = Alert.objects.filter(pk=alert_id, organization=organization).only("id").first()
    if alert is None:
        return False
    AlertRead.objects.bulk_create([AlertRead(user=actor, alert=alert, tenant_id=alert.tenant_id)],
                                  ignore_conflicts=True)
    return True


@transaction.atomic
def alerts_mark_all_read(*, actor, organization, through: int | None = None) -> int:
    """Every alert of the organization up to `through` (the newest the member has seen; default: the
    newest there is) is read for this member. Returns the new `alerts_read_through`."""
    from django.db.models import Max

    _member_only(actor, organization)
    newest = Alert.objects.filter(organization=organization).aggregate(m=Max("id"))["m"] or 0
    upto = min(newest, through) if through is not None else newest
    pref, _created = AlertPreference.objects.select_for_update().get_or_create(user=actor, organization=organization)
    if upto > pref.alerts_read_through:
        pref.alerts_read_through = upto
        pref.save(update_fields=["alerts_read_through", "updated_at"])
        AlertRead.objects.filter(user=actor, alert__organization=organization, alert_id__lte=upto).delete()
    return pref.alerts_read_through


def _digest_text(user, organization, alerts, language: str, tenant) -> tuple[str, str]:
    from core.text import single_line

    with translation.override(language):
        subject = f"[{tenant.display_name(language)}] " + ngettext("%(org)s: %(n)s alert about your rights", "%(org)s: %(n)s alerts about your rights",
                           len(alerts)) % {"org": organization.legal_name, "n": len(alerts)}
        lines = [_("Hello %(name)s,") % {"name": getattr(user, "full_name", "") or user.email}, "",
                 _("Since the last digest:"), ""]
        for alert in alerts:
            due = (" · " + _("by %(date)s") % {"date": alert.due_by.isoformat()}) if alert.due_by else ""
            lines.append(f"- {alert.record.jurisdiction} {alert.record.number} · {Alert.Kind(alert.kind).label}{due}")
            # the alert itself, rendered now in the reader's language (old alerts: their stored text)
            what = " ".join(t for t in (alert.display_message, alert.display_action) if t)
            if what:
                lines.append(f"  {what}")
        lines += ["", _("See them and what to do on your portfolio page: %(url)s") % {
            "url": tenant.absolute_url("/portfolio/")}, "",
            _("You get this digest because you chose it on the alert settings page: %(url)s") % {
                "url": tenant.absolute_url("/portfolio/alerts/")}]
        return single_line(subject), "\n".join(lines)


def alert_digests_send(*, now: datetime.datetime | None = None) -> int:
    """One digest per member who chose it (tenant in context). Returns the number of e-mails sent."""
    from core.tenancy import require_tenant

    now = now or timezone.now()
    tenant = require_tenant()
    sent = 0
    ids = list(AlertPreference.objects.filter(email=AlertPreference.Email.DIGEST).values_list("pk", flat=True))
    for pk in ids:
        try:
            sent += _send_one(pk, now=now, tenant=tenant)
        except Exception as exc:  # noqa: BLE001 - the mail system failed: this member's digest is retried next time
            log.warning("alert digest %s not sent: %s", pk, exc)
    return sent


def _send_one(pk: int, *, now, tenant) -> int:
    """Claim, collect, move `last_digest_at`, send — in one transaction: a failed send rolls it back."""
    with transaction.atomic():
        pref = (AlertPreference.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("user", "organization").filter(pk=pk, email=AlertPreference.Email.DIGEST)
                .first())
        if pref is None or not pref.user.email or not is_member(pref.user, pref.organization):
            return 0
        since = pref.last_digest_at or (now - datetime.timedelta(days=1))
        alerts = Alert.objects.filter(organization=pref.organization, created_at__gt=since, created_at__lte=now)
        if pref.kinds:
            alerts = alerts.filter(kind__in=pref.kinds)
        alerts = list(alerts.select_related("record").order_by("created_at", "id")[:DIGEST_MAX_ALERTS])
        pref.last_digest_at = now
        pref.save(update_fields=["last_digest_at", "updated_at"])
        if not alerts:
            return 0
        language = pref.user.language or tenant.default_language or settings.LANGUAGE_CODE
        subject, body = _digest_text(pref.user, pref.organization, alerts, language, tenant)
        send_mail(subject, body, None, [pref.user.email])
        return 1
