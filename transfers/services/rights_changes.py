"""What an approved filing changes in the rights (DESIGN section 9: transfers calls rights services).

An assignment: each right of the order changes owner of record (the buyer's holding begins, the
seller's ends naming this transfer). A licence: recorded on each right as an encumbrance."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from rights.services import owner_record_transfer, record_encumbrance

LICENCE_ENCUMBRANCE = {"exclusive_licence": "exclusive_licence", "non_exclusive_licence": "non_exclusive_licence"}


def _add_months(day: datetime.date, months: int) -> datetime.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    try:
        return day.replace(year=year, month=month)
    except ValueError:
        return day.replace(year=year, month=month, day=28)


def apply_recordal(order: Any, filing: Any, *, office_rights: list[Any] | None = None, back: bool = False) -> int:
    """Apply an approved filing to the rights it covers (all rights of the order, or `office_rights`).
    `back`: the transfer back to the seller after a refund (the buyer's holding ends, the seller's begins
    again). Idempotent (per order and office reference). Returns how many rights changed."""
    listing = order.listing
    rights = office_rights if office_rights is not None else list(listing.rights.select_related("register_record"))
    reference = f"{order.reference} · {filing.reference or filing.pk}" + (" · R" if back else "")
    recorded_on = (filing.notice_received_at or filing.filed_at)
    recorded_on = recorded_on.date() if recorded_on else None
    changed = 0
    for right in rights:
        record = right.register_record
        if record is None:
            continue
        if back:
            owner_record_transfer(record=record, from_org=order.buyer_org, to_org=order.seller_org,
                                  reference=reference, recorded_on=recorded_on)
        elif listing.deal_type in LICENCE_ENCUMBRANCE:
            until = _add_months(recorded_on or timezone.localdate(), listing.licence_term_months or 0) \
                if listing.licence_term_months else None
            record_encumbrance(record=record, type=LICENCE_ENCUMBRANCE[listing.deal_type],
                               holder=order.buyer_org.legal_name, reference=reference, until=until,
                               organizations=[order.buyer_org, order.seller_org])
        else:
            owner_record_transfer(record=record, from_org=order.seller_org, to_org=order.buyer_org,
                                  reference=reference, recorded_on=recorded_on)
        changed += 1
    return changed
