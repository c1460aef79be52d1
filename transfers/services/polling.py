"""The poller: asks the offices about the filings that are DUE, in batches.

Each batch is one transaction:
1. claim up to `batch_size` open filings with `next_poll_at <= now` (partial index on
   (tenant, next_poll_at)), `SELECT ... FOR UPDATE SKIP LOCKED`, so two workers never take the same rows;
2. ask each adapter once for the whole batch (`status_many`);
3. filings still pending get their next poll time with backoff in one UPDATE per (office, attempts);
4. decided filings: their orders are locked with SKIP LOCKED too (never wait while holding locks, so no
   deadlock with a user-facing service that locks the order first); each answer is applied in a
   savepoint, so one bad filing cannot hold back the others.

If the worker dies mid-batch, PostgreSQL rolls the batch back: nothing is half-applied, and the
redelivered task (acks_late) or the next beat tick does it again. Cost grows with due filings,
never with all open ones.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from escrow.models import Order
from transfers.models import OPEN_STATUSES, TransferFiling
from transfers.offices import OfficeAnswer, backoff, get_gateway

from .filing import apply_answer

log = logging.getLogger(__name__)


@dataclass
class PollStats:
    batches: int = 0
    claimed: int = 0
    pending: int = 0
    approved: int = 0
    rejected: int = 0
    correction: int = 0
    deferred: int = 0
    withdrawn: int = 0
    skipped_locked: int = 0
    errors: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _poll_batch(*, now: datetime, batch_size: int, seen: set[int], stats: PollStats) -> int:
    with transaction.atomic():
        due = TransferFiling.objects.select_for_update(skip_locked=True, of=("self",)).filter(
            status__in=OPEN_STATUSES, next_poll_at__lte=now)
        if seen:  # filings skipped earlier in this cycle (their order was locked): not again now
            due = due.exclude(pk__in=seen)
        filings = list(due.order_by("next_poll_at", "id")[:batch_size])
        if not filings:
            return 0
        stats.batches += 1
        stats.claimed += len(filings)
        by_adapter: dict[str, list[TransferFiling]] = defaultdict(list)
        for filing in filings:
            by_adapter[filing.adapter].append(filing)
        answers: dict[int, OfficeAnswer] = {}
        for adapter, group in by_adapter.items():
            answers.update(get_gateway(adapter).status_many(group))

        pending_groups: dict[tuple[str, int], list[int]] = defaultdict(list)
        decided: list[tuple[TransferFiling, OfficeAnswer]] = []
        for filing in filings:
            answer = answers.get(filing.pk) or OfficeAnswer(OfficeAnswer.PENDING)
            if answer.status == OfficeAnswer.PENDING:
                pending_groups[(filing.office, filing.poll_attempts)].append(filing.pk)
            else:
                decided.append((filing, answer))
        later = timezone.now()
        for (office, attempts), ids in pending_groups.items():
            TransferFiling.objects.filter(pk__in=ids).update(
                poll_attempts=attempts + 1, last_polled_at=later, next_poll_at=later + backoff(office, attempts + 1))
            stats.pending += len(ids)

        if decided:
            order_ids = sorted({f.order_id for f, _a in decided})
            orders = {o.pk: o for o in Order.objects.select_for_update(skip_locked=True, of=("self",))
                      .select_related("tenant", "buyer", "buyer_org", "seller_org", "listing")
                      .filter(pk__in=order_ids).order_by("pk")}
            for filing, answer in decided:
                order = orders.get(filing.order_id)
                if order is None:  # someone holds the order: ask again next cycle
                    stats.skipped_locked += 1
                    seen.add(filing.pk)
                    continue
                try:
                    with transaction.atomic():
                        outcome = apply_answer(order, filing, answer)
                except Exception as exc:  # noqa: BLE001 - one bad filing must not block the batch
                    log.exception("applying the office answer to filing %s failed", filing.pk)
                    stats.errors += 1
                    TransferFiling.objects.filter(pk=filing.pk).update(
                        last_error=str(exc)[:1000], last_polled_at=later,
                        next_poll_at=later + backoff(filing.office, filing.poll_attempts + 1),
                        poll_attempts=filing.poll_attempts + 1)
                    continue
                if outcome in ("approved", "rejected", "correction", "deferred", "withdrawn", "pending"):
                    setattr(stats, outcome, getattr(stats, outcome) + 1)
        return len(filings)


def transfer_poll_due(*, batch_size: int = 500, max_batches: int = 100, now: datetime | None = None) -> PollStats:
    """One poll cycle for the tenant in context: every due filing, batch by batch."""
    now = now or timezone.now()
    stats = PollStats()
    seen: set[int] = set()
    for _batch in range(max_batches):
        if _poll_batch(now=now, batch_size=batch_size, seen=seen, stats=stats) < batch_size:
            break
    return stats
