"""Formal appraisals: an organization orders one from an appraiser partner listed by the exchange, pays
the fee into escrow, the appraiser delivers a report (a PDF, checked by content) with a value and a
date, and the fee is released to the appraiser less the exchange's commission."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.audit import audit_record
from core.errors import InvalidTransition, NotAllowed, ValidationFailed
from core.notifications import notify
from core.permissions import is_member
from core.tenancy import require_tenant
from core.uploads import validate_upload
from escrow.services import service_escrow_hold, service_escrow_release
from financing.models import Appraisal, AppraisalState, FinancePartner, PartnerKind
from financing.papers import sha256
from rights.models import RegisterRecord

from .common import members, next_reference


def _lock(pk) -> Appraisal:
    return Appraisal.objects.select_for_update(of=("self",)).get(pk=pk)


@transaction.atomic(durable=True)
def appraisal_order(*, actor, organization, appraiser: FinancePartner, record_ids) -> Appraisal:
    if not is_member(actor, organization):
        raise NotAllowed(_("Only members of %(org)s can order an appraisal for it.") % {"org": organization})
    if appraiser.kind != PartnerKind.APPRAISER or not appraiser.is_active:
        raise ValidationFailed(_("Choose an appraiser listed by the exchange."),
                               field_errors={"appraiser": [_("Not a listed appraiser.")]})
    records = list(RegisterRecord.objects.filter(pk__in=set(record_ids or [])))
    if not records:
        raise ValidationFailed(_("Choose the rights to appraise."), field_errors={"rights": [_("Required.")]})
    appraisal = Appraisal.objects.create(
        reference=next_reference("APR"), organization=organization, ordered_by=actor, appraiser=appraiser,
        fee_minor=appraiser.appraisal_fee_minor, currency=appraiser.currency or require_tenant().currency,
        record_ids=sorted(r.pk for r in records))
    audit_record(actor=actor, action="appraisal.order", obj=appraisal, to_state=appraisal.state,
                 data={"appraiser": appraiser.pk, "rights": [r.pk for r in records], "fee_minor": appraisal.fee_minor})
    return appraisal


@transaction.atomic(durable=True)
def appraisal_pay(*, actor, appraisal, provider: str = "simulated") -> Appraisal:
    """The fee goes into escrow (held per appraisal in the ledger); the appraiser is told to start."""
    appraisal = _lock(appraisal.pk)
    if not is_member(actor, appraisal.organization):
        raise NotAllowed(_("Only the organization that ordered the appraisal pays for it."))
    if appraisal.state != AppraisalState.ORDERED:
        raise InvalidTransition(_("Appraisal %(ref)s is “%(state)s”.") % {"ref": appraisal.reference,
                                                                          "state": appraisal.get_state_display()})
    service_escrow_hold(reference=appraisal.reference, amount_minor=appraisal.fee_minor, currency=appraisal.currency,
                        provider=provider, actor=actor)
    from_state = appraisal.state
    appraisal.pay()
    appraisal.paid_at = timezone.now()
    appraisal.save()
    audit_record(actor=actor, action="appraisal.paid", obj=appraisal, from_state=from_state, to_state=appraisal.state,
                 data={"fee_minor": appraisal.fee_minor, "provider": provider})
    notify(users=members(appraisal.appraiser.organization), kind="appraisal.ordered",
           subject=gettext_lazy("Appraisal %(ref)s ordered by %(org)s"),
           body=gettext_lazy("The fee is held in escrow. Open the data pack and deliver the signed report."),
           params={"ref": appraisal.reference, "org": appraisal.organization.legal_name},
           url=f"/financing/appraisals/{appraisal.reference}/")
    return appraisal


@transaction.atomic(durable=True)
def appraisal_deliver(*, actor, appraisal, report, value_minor: int, value_date) -> Appraisal:
    appraisal = _lock(appraisal.pk)
    if not is_member(actor, appraisal.appraiser.organization):
        raise NotAllowed(_("Only the appraiser delivers the report."))
    if appraisal.state != AppraisalState.PAID:
        raise InvalidTransition(_("Appraisal %(ref)s is “%(state)s”: no report is awaited.")
                                % {"ref": appraisal.reference, "state": appraisal.get_state_display()})
    errors = {}
    try:
        validate_upload(report, allowed=("pdf",))
    except ValidationError as exc:
        errors["report"] = [exc.messages[0]]
    if not value_minor or value_minor <= 0:
        errors["value"] = [_("Enter the appraised value.")]
    if value_date is None or value_date > timezone.localdate():
        errors["value_date"] = [_("Enter the valuation date (not in the future).")]
    if errors:
        raise ValidationFailed(" ".join(str(m[0]) for m in errors.values()), field_errors=errors)
    report.seek(0)
    data = report.read()
    appraisal.report.save(f"appraisal-{appraisal.reference}.pdf", ContentFile(data), save=False)
    appraisal.report_sha256 = sha256(data)
    appraisal.value_minor = value_minor
    appraisal.value_date = value_date
    appraisal.delivered_at = timezone.now()
    from_state = appraisal.state
    appraisal.deliver()
    appraisal.save()
    commission = appraisal.fee_minor * int(getattr(settings, "APPRAISAL_COMMISSION_BPS", 1000)) // 10000
    service_escrow_release(reference=appraisal.reference, payee=appraisal.appraiser.organization,
                           amount_minor=appraisal.fee_minor, fee_minor=commission, currency=appraisal.currency,
                           actor=actor)
    audit_record(actor=actor, action="appraisal.delivered", obj=appraisal, from_state=from_state,
                 to_state=appraisal.state, data={"value_minor": value_minor, "value_date": str(value_date),
                                                 "sha256": appraisal.report_sha256, "commission_minor": commission})
    notify(users=members(appraisal.organization), kind="appraisal.delivered",
           subject=gettext_lazy("Appraisal %(ref)s: the report is delivered"),
           params={"ref": appraisal.reference}, url=f"/financing/appraisals/{appraisal.reference}/")
    return appraisal
