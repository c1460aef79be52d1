"""Running royalties of recorded licences: one report per period (quarter, half year, year). The
licensee reports its base; the platform invoices rate × base (at least the period's minimum); the
payment goes through escrow (escrow.services.royalty_payment_start → the ledger → payout to the
licensor); escrow announces `royalty.paid` and the report is closed and the next period opened.
Missed reports and payments are deadlines enforced by beat (`royalty_enforce_deadlines`)."""

from __future__ import annotations

import calendar
import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Membership
from core.audit import audit_record
from core.errors import InvalidTransition, NotAllowed, ValidationFailed
from core.notifications import notify
from core.permissions import is_member
from escrow.services import royalty_payment_start

from .models import Licence, RoyaltyReport

PERIOD_MONTHS = {"quarter": 3, "half_year": 6, "year": 12}
REPORT_DAYS = 30  # after the period ends
PAYMENT_DAYS = 15  # after the invoice
MAX_MINOR = 10**15


def _add_months(day: datetime.date, months: int) -> datetime.date:
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def _users(org):
    return [m.user for m in Membership.objects.filter(organization=org).select_related("user")]


def royalty_open_period(licence, *, start: datetime.date | None = None) -> RoyaltyReport | None:
    """Open the next reporting period of a licence with a running royalty (inside the caller's transaction)."""
    if not licence.royalty_bps or licence.royalty_period not in PERIOD_MONTHS:
        return None
    start = start or timezone.localdate()
    end = _add_months(start, PERIOD_MONTHS[licence.royalty_period]) - datetime.timedelta(days=1)
    if licence.term_months and licence.recorded_at:
        licence_end = _add_months(timezone.localtime(licence.recorded_at).date(), licence.term_months)
        if start >= licence_end:
            return None
    due = timezone.make_aware(datetime.datetime.combine(end + datetime.timedelta(days=REPORT_DAYS), datetime.time(23, 59)))
    try:
        with transaction.atomic():
            return RoyaltyReport.objects.create(licence=licence, period_start=start, period_end=end, report_due=due)
    except IntegrityError:
        return RoyaltyReport.objects.get(licence=licence, period_start=start)


def _lock(report) -> RoyaltyReport:
    return RoyaltyReport.objects.select_for_update(of=("self",)).select_related(
        "licence__order", "licence__licensee_org", "licence__licensor_org").get(pk=report.pk)


@transaction.atomic(durable=True)
def royalty_report(*, report, actor, base_minor: int, units: int | None = None) -> RoyaltyReport:
    """The licensee reports the period's base; the platform invoices the royalty due."""
    report = _lock(report)
    licence = report.licence
    if not is_member(actor, licence.licensee_org):
        raise NotAllowed(_("Only the licensee reports its royalties."))
    if report.state not in (RoyaltyReport.State.DUE, RoyaltyReport.State.REPORT_OVERDUE):
        raise InvalidTransition(_("This period has already been reported."))
    if isinstance(base_minor, bool) or not isinstance(base_minor, int) or not 0 <= base_minor <= MAX_MINOR:
        raise ValidationFailed(_("Report the period's base as an amount of zero or more."),
                               field_errors={"base": [_("Enter a valid amount.")]})
    royalty = max(base_minor * licence.royalty_bps // 10_000, int(licence.royalty_minimum_minor or 0))
    now = timezone.now()
    report.base_minor, report.units, report.royalty_minor = base_minor, units, royalty
    report.reported_by, report.reported_at = actor, now
    report.payment_due = now + datetime.timedelta(days=PAYMENT_DAYS)
    report.state = RoyaltyReport.State.INVOICED if royalty else RoyaltyReport.State.PAID
    report.save(update_fields=["base_minor", "units", "royalty_minor", "reported_by", "reported_at", "payment_due",
                               "state"])
    audit_record(actor=actor, action="royalty.reported", obj=report,
                 data={"base_minor": base_minor, "units": units, "royalty_minor": royalty, "order": licence.order.reference})
    notify(users=_users(licence.licensor_org) + _users(licence.licensee_org), kind="royalty.invoiced",
           subject=gettext_lazy("Royalty for %(period)s invoiced"),
           body=gettext_lazy("The licensee reported its base; the royalty due is %(amount)s, to be paid by %(due)s."),
           params={"period": f"{report.period_start}–{report.period_end}",
                   "amount": f"{royalty / 100:,.2f} {licence.currency}", "due": f"{report.payment_due:%Y-%m-%d}"},
           url=f"/deals/licences/{licence.pk}/")
    if report.state == RoyaltyReport.State.PAID:
        royalty_open_period(licence, start=report.period_end + datetime.timedelta(days=1))
    return report


def royalty_pay_start(*, report, actor, provider: str):
    """The licensee pays the invoiced royalty through escrow; returns the pending Payment."""
    if report.state not in (RoyaltyReport.State.INVOICED, RoyaltyReport.State.PAYMENT_OVERDUE):
        raise InvalidTransition(_("There is no royalty to pay for this period."))
    payment = royalty_payment_start(order=report.licence.order, actor=actor, provider=provider,
                                    amount_minor=int(report.royalty_minor),
                                    label=f"royalty {report.period_start}–{report.period_end}")
    RoyaltyReport.objects.filter(pk=report.pk).update(payment_reference=payment.reference)
    return payment


def royalty_paid(*, payment_reference: str) -> RoyaltyReport | None:
    """Escrow announced the royalty paid (`royalty.paid`): close the period, open the next one."""
    report = RoyaltyReport.objects.select_for_update(of=("self",)).select_related("licence").filter(
        payment_reference=payment_reference).first()
    if report is None or report.state == RoyaltyReport.State.PAID:
        return report
    report.state, report.paid_at = RoyaltyReport.State.PAID, timezone.now()
    report.save(update_fields=["state", "paid_at"])
    audit_record(actor_label="escrow", action="royalty.paid", obj=report, data={"payment": payment_reference})
    royalty_open_period(report.licence, start=report.period_end + datetime.timedelta(days=1))
    return report


def royalty_enforce_deadlines(*, now=None) -> int:
    """Beat: periods not reported by their due date, and invoices not paid by theirs, become overdue;
    both parties are told once."""
    now = now or timezone.now()
    changed = 0
    late = [(RoyaltyReport.State.DUE, "report_due", RoyaltyReport.State.REPORT_OVERDUE),
            (RoyaltyReport.State.INVOICED, "payment_due", RoyaltyReport.State.PAYMENT_OVERDUE)]
    for source, field, target in late:
        for pk in RoyaltyReport.objects.filter(state=source, **{f"{field}__lte": now}).values_list("pk", flat=True)[:500]:
            with transaction.atomic(durable=True):
                report = _lock(RoyaltyReport(pk=pk))
                if report.state != source:
                    continue
                report.state = target
                report.save(update_fields=["state"])
                audit_record(actor_label="deadline", action=f"royalty.{target}", obj=report, from_state=source,
                             to_state=target)
                licence = report.licence
                notify(users=_users(licence.licensor_org) + _users(licence.licensee_org), kind=f"royalty.{target}",
                       subject=gettext_lazy("Royalty deadline missed for %(period)s"),
                       body=gettext_lazy("The licensee has not reported or paid the royalty for %(period)s in time. "
                                         "Escrow staff follow it up under the licence contract."),
                       params={"period": f"{report.period_start}–{report.period_end}"},
                       url=f"/deals/licences/{licence.pk}/")
                changed += 1
    return changed


def reports_of(licence):
    return RoyaltyReport.objects.filter(licence=licence).order_by("period_start")


__all__ = ["royalty_open_period", "royalty_report", "royalty_pay_start", "royalty_paid", "royalty_enforce_deadlines",
           "Licence"]
