"""Reactions of financing to what lower apps announce (core.events `@on` handlers, inside the
announcer's transaction):

- `recordal.decided` (transfers): the office's decision on a pledge or release recordal moves the loan
  application on.
- `deposit.held` (escrow) with subject "appraisal:<ref>": the appraisal fee arrived; the appraiser starts.
- `deposit.held` with subject "loanfee:<ref>": the borrower paid the exchange's service fee on the loan.
- Monitoring alerts about a right (rights): the lender holding a live pledge on it is told. Accepted
  forms: `right.alert` with `data["kind"]`, or `right.<kind>`; `data["record"]` is the register
  record's id. The kinds that concern a lender are `LENDER_ALERT_KINDS`.
"""

from __future__ import annotations

from core.events import on

PREFIX = "financing.application:"
LENDER_ALERT_KINDS = ("fee_due", "fee_overdue", "status_changed", "lapsed", "expired", "invalidated", "opposition",
                      "owner_changed", "assignment_recorded",
                      # the kinds rights.monitoring's `right.alert` carries (rights.models.Alert.Kind)
                      "status_change", "lapse", "assignment", "licence", "owner_name")


@on("recordal.decided")
def recordal_decided(*, tenant, data, **_objects):
    if not str(data.get("subject", "")).startswith(PREFIX):
        return
    from .services.pledges import application_apply_recordal

    application_apply_recordal(reference=data["subject"][len(PREFIX):], kind=data["kind"], status=data["status"],
                               filing_id=data.get("filing"))


APPRAISAL_PREFIX = "appraisal:"
LOAN_FEE_PREFIX = "loanfee:"


@on("deposit.held")
def deposit_held(*, tenant, data, **_objects):
    """Escrow received an appraisal fee or a loan's service fee (paid through the payment gateway as a
    deposit)."""
    subject = str(data.get("subject", ""))
    if subject.startswith(LOAN_FEE_PREFIX):
        from .services.loan_fees import service_fee_held

        service_fee_held(reference=subject[len(LOAN_FEE_PREFIX):], deposit_id=data["deposit"])
        return
    if not subject.startswith(APPRAISAL_PREFIX):
        return
    from .services.appraisals import appraisal_fee_held

    appraisal_fee_held(reference=data["subject"][len(APPRAISAL_PREFIX):], deposit_id=data["deposit"])


def _alert(kind, data):
    if kind in LENDER_ALERT_KINDS and data.get("record"):
        from .services.pledges import lenders_alert

        lenders_alert(record_id=data["record"], kind=kind, data=data)


@on("right.alert")
def right_alert(*, tenant, data, **_objects):
    _alert(data.get("kind"), data)


for _kind in LENDER_ALERT_KINDS:
    on(f"right.{_kind}")(lambda *, tenant, data, _k=_kind, **_objects: _alert(_k, data))
