"""Reactions of financing to what lower apps announce (core.events): the office's decision on a
pledge or release recordal moves the loan application on."""

from __future__ import annotations

PREFIX = "financing.application:"


def on_domain_event(*, tenant, event: str, organization_ids, data: dict) -> None:
    if event != "recordal.decided" or not str(data.get("subject", "")).startswith(PREFIX):
        return
    from .services.pledges import application_apply_recordal

    application_apply_recordal(reference=data["subject"][len(PREFIX):], kind=data["kind"], status=data["status"],
                               filing_id=data.get("filing"))
