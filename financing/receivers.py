"""Reactions of financing to what lower apps announce (core.events):

- `recordal.decided` (transfers): the office's decision on a pledge or release recordal moves the loan
  application on.
- Monitoring alerts about a right (rights): the lender holding a live pledge on it is told. Accepted
  forms: an event named `right.alert` with `data["kind"]`, or an event named `right.<kind>`; either way
  `data["record"]` is the register record's id. Kinds that concern a lender: `LENDER_ALERT_KINDS`.
"""

from __future__ import annotations

PREFIX = "financing.application:"
LENDER_ALERT_KINDS = {"fee_due", "fee_overdue", "status_changed", "lapsed", "expired", "invalidated", "opposition",
                      "owner_changed", "assignment_recorded"}


def on_domain_event(*, tenant, event: str, organization_ids, data: dict) -> None:
    if event == "recordal.decided" and str(data.get("subject", "")).startswith(PREFIX):
        from .services.pledges import application_apply_recordal

        application_apply_recordal(reference=data["subject"][len(PREFIX):], kind=data["kind"], status=data["status"],
                                   filing_id=data.get("filing"))
        return
    if event.startswith("right.") and data.get("record"):
        kind = data.get("kind") if event == "right.alert" else event[len("right."):]
        if kind in LENDER_ALERT_KINDS:
            from .services.pledges import lenders_alert

            lenders_alert(record_id=data["record"], kind=kind, data=data)
