"""Escrow services: every write to orders, money and disputes (DESIGN sections 2 and 3).

The interface other apps call (transfers worker and views, the API, the admin):

- `lock_order(order_id)` / `lock_order_and_listing(order_id)`: row locks inside the caller's
  transaction, always order first, then listing, so two services never deadlock.
- `order_step(order, transition, ...)`: NON-durable; the caller holds the transaction and the lock.
  Used by transfers for `file_transfer`, `approve_transfer`, `reject_transfer`.
- `order_return_complete(order=...)`: NON-durable, transfers calls it when the office recorded the
  transfer back to the seller (a refund after recordal, DESIGN section 2): the buyer is repaid.
- Durable services (own their transaction): `order_confirm_certificate`, `order_auto_confirm`,
  `order_expire`, `order_seller_default`, `order_refund`, and the rest of the order life cycle
  (`order_place`, `order_seller_confirm`, `order_seller_decline`, `order_buyer_cancel`,
  `order_dispute_open`, `order_dispute_resolve`, `order_staff_cancel`), payments and margins.

Each service: lock → actor check → transition → ledger → audit → notify both parties on commit →
`core.events.emit("order.state_changed", ...)`.
"""

from .core import ORDER_STEPS, lock_order, lock_order_and_listing, order_step
from .deposits import (
    deposit_apply,
    deposit_forfeit,
    deposit_pay_out,
    deposit_pay_start,
    deposit_payment,
    deposit_return,
    deposit_settle_receivable,
    order_credit,
)
from .disputes import order_dispute_answer, order_dispute_open, order_dispute_resolve, split_amounts
from .margins import margin_amount_for, margin_forfeit, margin_pay_start, margin_return
from .orders import (
    AgreedDeal,
    order_auto_confirm,
    order_buyer_cancel,
    order_confirm_certificate,
    order_expire,
    order_place,
    order_place_agreed,
    order_refund,
    order_seller_confirm,
    order_seller_decline,
    order_seller_default,
    order_staff_cancel,
    transfer_recorded,
)
from .payments import (
    bank_transfer_record_receipt,
    disbursement_execute,
    disbursement_mark_paid,
    payment_event_apply,
    payment_start,
    royalty_payment_start,
)
from .returns import order_return_complete, order_return_split
from .service_fees import (
    service_fee_charge,
    service_fee_settle,
)

__all__ = [
    "ORDER_STEPS", "lock_order", "lock_order_and_listing", "order_step",
    "order_place", "AgreedDeal", "order_place_agreed", "order_seller_confirm", "order_seller_decline", "order_buyer_cancel", "order_expire",
    "order_confirm_certificate", "order_auto_confirm", "order_seller_default", "order_refund",
    "order_staff_cancel", "order_dispute_open", "order_dispute_resolve",
    "order_dispute_answer", "split_amounts", "order_return_complete", "order_return_split", "transfer_recorded",
    "payment_start", "royalty_payment_start", "payment_event_apply", "bank_transfer_record_receipt", "disbursement_execute",
    "disbursement_mark_paid",
    "deposit_pay_start", "deposit_return", "deposit_forfeit", "deposit_pay_out", "deposit_payment", "deposit_apply",
    "deposit_settle_receivable",
    "order_credit",
    "margin_amount_for", "margin_pay_start", "margin_return", "margin_forfeit",
    "service_fee_charge", "service_fee_settle",
]
