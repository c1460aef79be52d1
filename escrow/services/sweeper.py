"""The sweeper: money in flight finished from the database, not from the broker.

Tasks that move money are acknowledged late and redelivered when a worker dies, but the broker can
take up to its visibility timeout to notice, and it can lose its data. So beat runs `sweep_in_flight`
every minute: whatever the database shows in flight for longer than ESCROW_SWEEP_AFTER_SECONDS is
finished here, through the same idempotent services the tasks call:

- a simulated payment the payer approved/declined whose event never arrived → the event is
  delivered again (its id is fixed per payment and outcome, so it is applied once);
- a refund or payout still pending (never sent, or its worker died mid-call) → `disbursement_execute`
  (row lock, the provider dedups by our id, a paid one is left alone).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from core.tenancy import tenant_context
from escrow.models import Disbursement, Payment

log = logging.getLogger(__name__)


def sweep_in_flight(*, older_than: timedelta | None = None, limit: int = 200) -> dict[str, int]:
    from escrow.payments import get_provider
    from escrow.payments.simulated import build_event, deliver

    from .payments import disbursement_execute

    older_than = older_than if older_than is not None else timedelta(
        seconds=getattr(settings, "ESCROW_SWEEP_AFTER_SECONDS", 180))
    cutoff = timezone.now() - older_than
    done = {"payments": 0, "disbursements": 0}
    payments = list(Payment.objects.unscoped().filter(
        provider="simulated", state=Payment.State.PENDING, provider_ref__startswith="submitted:",
        submitted_at__lte=cutoff).order_by("pk")[:limit])
    for payment in payments:
        with tenant_context(payment.tenant_id):
            approved = payment.provider_ref == "submitted:approve"
            log.warning("sweeper: payment %s submitted at %s never applied; delivering its event again",
                        payment.reference, payment.submitted_at)
            deliver(build_event(payment, approved=approved))
            done["payments"] += 1
    rows = list(Disbursement.objects.unscoped().filter(state=Disbursement.State.PENDING, created_at__lte=cutoff)
                .order_by("pk").values_list("pk", "tenant_id", "provider")[:limit])
    for pk, tenant_id, provider in rows:
        if get_provider(provider).manual_disbursements:
            continue
        with tenant_context(tenant_id):
            log.warning("sweeper: disbursement %s pending since before %s; executing it", pk, cutoff)
            disbursement_execute(disbursement_id=pk)
            done["disbursements"] += 1
    return done
