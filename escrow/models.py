"""Orders: one per purchase, a protected state machine (DESIGN section 2). Transitions hold only
in-memory checks; escrow/services/ locks, checks the actor, transitions, posts the ledger,
audits and notifies on commit.

Over 400 lines on purpose: the order, its ledger (accounts, entries, lines), payments, payouts and
disputes reference each other's states and constraints; one module keeps the money's schema in one
read, in the order money moves."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import RETURN_VALUE, FSMField, FSMModelMixin, transition

from core.tenancy import TenantOwned
from core.uploads import tenant_path


class OrderState(models.TextChoices):
    PLACED = "placed", _("Placed")
    SELLER_CONFIRMED = "seller_confirmed", _("Confirmed by seller")
    FUNDED = "funded", _("Payment held")
    TRANSFER_FILED = "transfer_filed", _("Transfer filed")
    TRANSFER_APPROVED = "transfer_approved", _("Transfer approved")
    TRANSFER_REJECTED = "transfer_rejected", _("Transfer rejected")
    DISPUTED = "disputed", _("Disputed")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")
    REFUNDED = "refunded", _("Refunded")
    SETTLED = "settled", _("Settled by a split")
    RETURN_PENDING = "return_pending", _("Transfer back to the seller under way")


S = OrderState
# An order in one of these states holds its listing (one live order per listing, enforced by a constraint).
LIVE_STATES = (S.PLACED, S.SELLER_CONFIRMED, S.FUNDED, S.TRANSFER_FILED, S.TRANSFER_APPROVED,
               S.TRANSFER_REJECTED, S.DISPUTED, S.RETURN_PENDING)
FINAL_STATES = (S.COMPLETED, S.CANCELLED, S.REFUNDED, S.SETTLED)
# After funding either party may dispute.
DISPUTABLE_STATES = (S.FUNDED, S.TRANSFER_FILED, S.TRANSFER_APPROVED, S.TRANSFER_REJECTED)


class Order(FSMModelMixin, TenantOwned):
    reference = models.CharField(_("reference"), max_length=20, help_text=_("Shown to people, e.g. IPX-2026-000123"))
    listing = models.ForeignKey("listings.Listing", on_delete=models.PROTECT, related_name="orders",
                                verbose_name=_("listing"))
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders_bought",
                              verbose_name=_("buyer"))
    buyer_org = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="orders_bought",
                                  verbose_name=_("buyer's organization"))
    seller_org = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="orders_sold",
                                   verbose_name=_("seller"))
    state = FSMField(_("state"), default=S.PLACED, choices=OrderState.choices, protected=True, db_index=True)
    disputed_from = models.CharField(max_length=20, blank=True, help_text=_("State to resume after a dispute"))

    # Snapshot of the deal and the tenant's fee schedule when placed: later changes never alter it.
    currency = models.CharField(_("currency"), max_length=3)
    price_minor = models.PositiveBigIntegerField(_("price (minor units)"))
    buyer_fee_minor = models.PositiveBigIntegerField(_("buyer fee (minor units)"), default=0)
    seller_commission_minor = models.PositiveBigIntegerField(_("seller commission (minor units)"), default=0)
    buyer_fee_bps = models.PositiveIntegerField(_("buyer fee (basis points)"), default=0)
    seller_commission_bps = models.PositiveIntegerField(_("seller commission (basis points)"), default=0)
    min_fee_minor = models.PositiveBigIntegerField(_("minimum fee (minor units)"), default=0)
    deal_type = models.CharField(_("deal type"), max_length=30, choices=[
        ("assignment", _("Assignment")), ("exclusive_licence", _("Exclusive licence")),
        ("non_exclusive_licence", _("Non-exclusive licence"))])
    payment_method = models.CharField(_("payment method"), max_length=20, blank=True)
    # A negotiated deal (issue 14): the agreed terms (licence scope, royalty, ...) snapshotted when placed.
    terms = models.JSONField(default=dict, blank=True)
    # False for licence orders that do not take the listing off the market (non-exclusive licences, exclusive
    # licences of one territory/field): the listing stays published and several such orders may be live.
    holds_listing = models.BooleanField(default=True)
    # A broker acting for the seller under a mandate: its commission is split out of the seller's payout.
    broker_org = models.ForeignKey("accounts.Organization", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="orders_brokered")
    broker_commission_minor = models.PositiveBigIntegerField(default=0)
    # A broker acting for the buyer under a mandate: the buyer pays its commission with the price (into
    # escrow), and it is paid to the broker at release.
    buyer_broker_org = models.ForeignKey("accounts.Organization", null=True, blank=True, on_delete=models.PROTECT,
                                         related_name="orders_brokered_for_buyers")
    buyer_broker_commission_minor = models.PositiveBigIntegerField(default=0, db_default=0)

    # Deadlines (from the tenant's schedule, set as each step starts).
    seller_confirm_due = models.DateTimeField(verbose_name=_("seller confirms by"), null=True, blank=True)
    payment_due = models.DateTimeField(verbose_name=_("payment due by"), null=True, blank=True)
    filing_due = models.DateTimeField(verbose_name=_("papers signed and filed by"), null=True, blank=True)
    inspection_due = models.DateTimeField(verbose_name=_("buyer confirms by"), null=True, blank=True)

    placed_at = models.DateTimeField(verbose_name=_("placed at"), auto_now_add=True)
    confirmed_at = models.DateTimeField(verbose_name=_("seller confirmed at"), null=True, blank=True)
    funded_at = models.DateTimeField(verbose_name=_("paid into escrow at"), null=True, blank=True)
    filed_at = models.DateTimeField(verbose_name=_("filed at"), null=True, blank=True)
    approved_at = models.DateTimeField(verbose_name=_("approved by the office at"), null=True, blank=True)
    completed_at = models.DateTimeField(verbose_name=_("completed at"), null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True, help_text=_("Cancelled or refunded at"))
    close_reason = models.TextField(verbose_name=_("reason for closing"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "listing"], condition=models.Q(state__in=LIVE_STATES, holds_listing=True),
                name="order_one_live_per_listing"
            ),
            models.UniqueConstraint(fields=["tenant", "reference"], name="order_reference_unique"),
        ]
        indexes = [
            models.Index(fields=["tenant", "state"]),
            models.Index(fields=["tenant", "buyer_org", "-placed_at"]),
            models.Index(fields=["tenant", "seller_org", "-placed_at"]),
            # The order list's money totals per state (escrow.selectors.dashboard): index-only sums, not a
            # heap read of every order of a busy organization
            models.Index(fields=["tenant", "seller_org", "state"], include=["currency", "price_minor"],
                         name="order_seller_sums_idx"),
            models.Index(fields=["tenant", "buyer_org", "state"],
                         include=["currency", "price_minor", "buyer_fee_minor", "buyer_broker_commission_minor"],
                         name="order_buyer_sums_idx"),
        ]
        ordering = ["-placed_at", "-id"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")

    def __str__(self):
        return self.reference

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("escrow:order_detail", args=[self.reference])

    @property
    def total_minor(self) -> int:
        """What the buyer pays: price plus buyer fee (plus its own broker's commission, if a broker acted for it)."""
        return self.price_minor + self.buyer_fee_minor + self.buyer_broker_commission_minor

    @property
    def payout_minor(self) -> int:
        """What the seller receives on release: price minus commission (and minus its broker's commission)."""
        return self.price_minor - self.seller_commission_minor - self.broker_commission_minor

    @property
    def is_licence(self) -> bool:
        return bool(self.deal_type) and self.deal_type != "assignment"

    @property
    def is_live(self):
        return self.state in LIVE_STATES

    # --- transitions: in-memory only ---
    @transition(field=state, source=S.PLACED, target=S.SELLER_CONFIRMED)
    def seller_confirm(self):
        pass

    @transition(field=state, source=[S.PLACED, S.SELLER_CONFIRMED], target=S.CANCELLED)
    def cancel(self):
        """Seller declines, buyer cancels before paying, or a confirmation/payment deadline passes."""

    @transition(field=state, source=S.SELLER_CONFIRMED, target=S.FUNDED)
    def fund(self):
        pass

    @transition(field=state, source=[S.FUNDED, S.TRANSFER_REJECTED], target=S.TRANSFER_FILED)
    def file_transfer(self):
        pass

    @transition(field=state, source=S.TRANSFER_FILED, target=S.TRANSFER_APPROVED)
    def approve_transfer(self):
        pass

    @transition(field=state, source=S.TRANSFER_FILED, target=S.TRANSFER_REJECTED)
    def reject_transfer(self):
        pass

    @transition(field=state, source=S.TRANSFER_APPROVED, target=S.COMPLETED)
    def complete(self):
        """Buyer confirms the certificate (or the inspection deadline passes); the seller is paid."""

    @transition(field=state, source=list(DISPUTABLE_STATES), target=S.DISPUTED)
    def open_dispute(self):
        self.disputed_from = self.state

    @transition(field=state, source=S.DISPUTED, target=RETURN_VALUE(*DISPUTABLE_STATES))
    def resume(self):
        """Staff resolve a dispute by continuing the trade where it stopped."""
        previous, self.disputed_from = self.disputed_from, ""
        return previous

    @transition(field=state, source=[S.FUNDED, S.TRANSFER_FILED, S.TRANSFER_REJECTED, S.DISPUTED, S.RETURN_PENDING],
                target=S.REFUNDED)
    def refund(self):
        """From RETURN_PENDING only once the office recorded the transfer back to the seller."""

    @transition(field=state, source=[S.TRANSFER_FILED, S.TRANSFER_APPROVED, S.TRANSFER_REJECTED, S.DISPUTED],
                target=S.RETURN_PENDING)
    def start_return(self):
        """A refund after the office recorded the buyer as owner: the rights go back to the seller first
        (papers, filing); the buyer is repaid when the office records the transfer back."""
        self.disputed_from = ""

    @transition(field=state, source=[S.DISPUTED, S.RETURN_PENDING], target=S.SETTLED)
    def settle_split(self):
        """Staff settle a dispute by a split (or settle a transfer back by a split instead): part refunded
        to the buyer, the rest released to the seller."""
        self.disputed_from = ""


# --- the ledger (DESIGN section 3): double-entry, integer minor units, append-only ---------------

class AccountKind(models.TextChoices):
    PROVIDER_CLEARING = "provider_clearing", _("Payment provider clearing")  # asset, per provider
    ESCROW_HELD = "escrow_held", _("Escrow held")  # liability, per order
    SELLER_PAYABLE = "seller_payable", _("Seller payable")  # liability, per organization
    BUYER_PAYABLE = "buyer_payable", _("Buyer payable (forfeited margins)")  # liability, per organization
    PLATFORM_FEES = "platform_fees", _("Platform fee revenue")  # income
    MARGIN_HELD = "margin_held", _("Seller margin held")  # liability, per listing
    PAYOUT_CLEARING = "payout_clearing", _("Payout clearing")  # liability, payouts sent, not yet settled
    REFUND_CLEARING = "refund_clearing", _("Refund clearing")  # liability, refunds due, not yet settled
    RECEIVABLE = "receivable", _("Receivable (fees charged, not yet paid)")  # asset, per organization
    DEPOSIT_HELD = "deposit_held", _("Bidder deposit held")  # liability, per deposit (auctions)


class LedgerAccount(TenantOwned):
    """One account per tenant, currency and dimension (provider, order, listing or organization)."""

    kind = models.CharField(max_length=30, choices=AccountKind.choices)
    currency = models.CharField(max_length=3)
    provider = models.CharField(max_length=20, blank=True)
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_accounts")
    listing = models.ForeignKey("listings.Listing", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    organization = models.ForeignKey("accounts.Organization", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    key = models.CharField(max_length=120, help_text=_("kind:currency:dimension, unique per exchange"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "key"], name="ledgeraccount_key_unique")]
        verbose_name = _("ledger account")
        verbose_name_plural = _("ledger accounts")

    def __str__(self):
        return f"{self.get_kind_display()} {self.key}"


class JournalEntry(TenantOwned):
    """One balanced money movement. Rows are never updated nor deleted (the database refuses)."""

    kind = models.CharField(verbose_name=_("kind"), max_length=40)
    memo = models.CharField(verbose_name=_("memo"), max_length=300, blank=True)
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.PROTECT, related_name="journal_entries")
    listing = models.ForeignKey("listings.Listing", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    idempotency_key = models.CharField(max_length=120, null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "idempotency_key"], name="journalentry_idempotency_unique"),
        ]
        indexes = [models.Index(fields=["tenant", "order", "created_at"])]
        ordering = ["created_at", "id"]
        verbose_name = _("journal entry")
        verbose_name_plural = _("journal entries")

    def __str__(self):
        return f"#{self.pk} {self.kind}"


class JournalLine(TenantOwned):
    """A debit (amount > 0) or credit (amount < 0) of one account, in minor units."""

    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="lines")
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="lines")
    amount_minor = models.BigIntegerField(help_text=_("Debit positive, credit negative"))
    currency = models.CharField(max_length=3)

    class Meta:
        constraints = [models.CheckConstraint(condition=~models.Q(amount_minor=0), name="journalline_nonzero")]
        indexes = [models.Index(fields=["tenant", "account"])]
        verbose_name = _("journal line")
        verbose_name_plural = _("journal lines")

    def __str__(self):
        return f"{self.account.key} {self.amount_minor} {self.currency}"


# --- payments in and out -----------------------------------------------------------------------

class Provider(models.TextChoices):
    SIMULATED = "simulated", _("Online payment (simulated)")
    STRIPE = "stripe", _("Card (Stripe)")
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")


class Payment(TenantOwned):
    """Money coming in: a buyer paying an order, or a seller paying a listing's margin."""

    class Purpose(models.TextChoices):
        ORDER = "order", _("Order payment")
        MARGIN = "margin", _("Listing margin")
        DEPOSIT = "deposit", _("Bidder deposit")
        ROYALTY = "royalty", _("Running royalty")

    class State(models.TextChoices):
        PENDING = "pending", _("Awaiting payment")
        SUCCEEDED = "succeeded", _("Received")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    purpose = models.CharField(max_length=10, choices=Purpose.choices)
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.PROTECT, related_name="payments")
    listing = models.ForeignKey("listings.Listing", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    deposit = models.ForeignKey("escrow.Deposit", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="payments")
    payer_org = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    provider = models.CharField(verbose_name=_("provider"), max_length=20, choices=Provider.choices)
    amount_minor = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    state = models.CharField(verbose_name=_("state"), max_length=12, choices=State.choices, default=State.PENDING)
    reference = models.CharField(verbose_name=pgettext_lazy("payment", "reference"), max_length=30,
                                 help_text=_("Our reference, quoted on bank transfers"))
    provider_ref = models.CharField(verbose_name=_("provider's reference"), max_length=120, blank=True, help_text=_("Provider's id (PaymentIntent, ...)"))
    failure_reason = models.CharField(max_length=300, blank=True)
    received_minor = models.PositiveBigIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    received_at = models.DateTimeField(verbose_name=_("received at"), null=True, blank=True)
    # When the payer approved/declined on the simulated provider's page: the sweeper redelivers the
    # provider's event if it has not arrived a few minutes later (a worker died while applying it).
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "reference"], name="payment_reference_unique")]
        indexes = [models.Index(fields=["tenant", "provider", "state"])]
        ordering = ["-created_at", "-id"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")

    def __str__(self):
        return self.reference


class Deposit(TenantOwned):
    """Money a party places with the platform to take part in something (a bidder's deposit in an
    auction), or a service's price held until the service is delivered (an appraisal fee: paid out to
    the provider, refunded, or split — `deposit_pay_out`). Escrow only knows the `subject` it was paid for (e.g. "auction:12"); the app that runs
    the auction decides when it is returned or counted towards an order's payment.

    pending → held (payment received) → applied (counted into the order's escrow when the order is
    funded) | returned (refunded through the provider it came from) | paid_out (to a provider, any
    rest refunded) | forfeited (the payer did not pay the order it counted towards: to the seller, less
    the exchange's share)."""

    class State(models.TextChoices):
        PENDING = "pending", _("Awaiting payment")
        HELD = "held", _("Held")
        APPLIED = "applied", _("Counted towards payment")
        RETURNED = "returned", _("Returned")
        PAID_OUT = "paid_out", _("Paid out")
        FORFEITED = "forfeited", _("Forfeited")

    subject = models.CharField(max_length=60, help_text=_("What the deposit is for, e.g. auction:12"))
    # What the payer is shown on the provider's page, and where the payment pages send them back to
    # (the app that asked for the money knows; escrow does not import it).
    description = models.CharField(max_length=200, blank=True)
    back_url = models.CharField(max_length=200, blank=True)
    payer_org = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    amount_minor = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.PROTECT, related_name="deposits",
                              help_text=_("The order this deposit counts towards"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    held_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "subject", "payer_org"],
                                    condition=~models.Q(state="returned"), name="deposit_one_live_per_subject_org"),
        ]
        verbose_name = _("deposit")
        verbose_name_plural = _("deposits")
        indexes = [models.Index(fields=["tenant", "subject", "state"])]
        verbose_name = _("deposit")
        verbose_name_plural = _("deposits")

    def __str__(self):
        return f"{self.subject} {self.payer_org_id} {self.amount_minor} {self.currency}"


class Disbursement(TenantOwned):
    """Money going out through a provider: a refund to the buyer, a payout to the seller, a margin
    returned to the seller or forfeited to the buyer."""

    class Kind(models.TextChoices):
        REFUND = "refund", _("Refund to buyer")
        PAYOUT = "payout", _("Payout to seller")
        MARGIN_RETURN = "margin_return", _("Margin returned to seller")
        MARGIN_FORFEIT = "margin_forfeit", _("Forfeited margin paid to buyer")

    class State(models.TextChoices):
        HELD = "held", _("Waiting for verified payout details")
        PENDING = "pending", pgettext_lazy("payout", "Pending")
        PAID = "paid", _("Paid")
        FAILED = "failed", _("Failed, to retry")

    kind = models.CharField(verbose_name=_("kind"), max_length=20, choices=Kind.choices)
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.PROTECT, related_name="disbursements")
    listing = models.ForeignKey("listings.Listing", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="disbursements")
    recipient_org = models.ForeignKey("accounts.Organization", verbose_name=_("recipient"), on_delete=models.PROTECT, related_name="+")
    provider = models.CharField(verbose_name=_("provider"), max_length=20, choices=Provider.choices)
    amount_minor = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    state = models.CharField(verbose_name=_("state"), max_length=10, choices=State.choices, default=State.PENDING)
    provider_ref = models.CharField(verbose_name=_("provider's reference"), max_length=120, blank=True)
    destination = models.CharField(_("paid to"), max_length=300, blank=True,
                                   help_text=_("The account the money went to, as it was when sent"))
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(verbose_name=_("last error"), max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "state", "kind"])]
        ordering = ["-created_at", "-id"]
        verbose_name = _("payout or refund")
        verbose_name_plural = _("payouts and refunds")

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def idempotency_key(self):
        return f"ipex-disb-{self.tenant_id}-{self.pk}"


class WebhookEvent(models.Model):
    """Each provider event id processed once. Platform-wide (one Stripe account serves every exchange)."""

    provider = models.CharField(max_length=20)
    event_id = models.CharField(max_length=120)
    kind = models.CharField(max_length=80)
    tenant = models.ForeignKey("marketplace.Tenant", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    payload = models.JSONField(default=dict, blank=True)
    outcome = models.CharField(max_length=200, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["provider", "event_id"], name="webhookevent_once")]
        verbose_name = _("provider event")
        verbose_name_plural = _("provider events")

    def __str__(self):
        return f"{self.provider} {self.event_id}"


# --- disputes ----------------------------------------------------------------------------------

class Dispute(TenantOwned):
    class State(models.TextChoices):
        OPEN = "open", pgettext_lazy("dispute state", "Open")
        RESOLVED = "resolved", _("Resolved")

    class Outcome(models.TextChoices):
        REFUND = "refund", _("Buyer refunded")
        CONTINUE = "continue", _("Trade continues")
        SPLIT = "split", _("Split between buyer and seller")

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="disputes")
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("opened by"), on_delete=models.PROTECT, related_name="+")
    party = models.CharField(verbose_name=_("party"), max_length=10, help_text=_("buyer or seller"))
    reason = models.TextField(_("reason"))
    state = models.CharField(verbose_name=_("state"), max_length=10, choices=State.choices, default=State.OPEN)
    outcome = models.CharField(verbose_name=_("outcome"), max_length=10, choices=Outcome.choices, blank=True)
    resolution_note = models.TextField(verbose_name=_("resolution note"), blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    opened_at = models.DateTimeField(verbose_name=_("opened at"), auto_now_add=True)
    answer_due = models.DateTimeField(_("the other side answers by"), null=True, blank=True)
    refund_minor = models.PositiveBigIntegerField(_("refunded to the buyer (split)"), null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "state", "opened_at"])]
        ordering = ["-opened_at", "-id"]
        verbose_name = _("dispute")
        verbose_name_plural = _("disputes")

    def __str__(self):
        return f"{self.order} · {self.get_state_display()}"


def evidence_path(instance, filename):
    return tenant_path(instance, "disputes", instance.dispute_id, filename)


class DisputeStatement(TenantOwned):
    """What one side says in a dispute: the opening party's reason is the dispute itself; the other
    side answers here with its own statement (and evidence files) before `Dispute.answer_due`."""

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="statements")
    party = models.CharField(max_length=10, help_text=_("buyer or seller"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("statement"), max_length=5000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["tenant", "dispute", "party"], name="dispute_statement_one_per_party")]
        verbose_name = _("dispute statement")
        verbose_name_plural = _("dispute statements")

    def __str__(self):
        return f"{self.dispute} · {self.party}"


class DisputeEvidence(TenantOwned):
    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="evidence")
    party = models.CharField(max_length=10, blank=True, help_text=_("buyer or seller: whose evidence"))
    file = models.FileField(upload_to=evidence_path)
    content_type = models.CharField(max_length=100)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("evidence file")
        verbose_name_plural = _("evidence files")

    def __str__(self):
        return self.file.name.rsplit("/", 1)[-1]


class EscrowBankAccount(TenantOwned):
    """The exchange's own escrow account at a bank, one per currency: where buyers transfer the money
    the platform holds. Bank transfer is offered only for a currency the exchange has an account for."""

    currency = models.CharField(_("currency"), max_length=3)
    bank = models.CharField(_("bank"), max_length=200)
    account_name = models.CharField(_("account name"), max_length=200)
    account_number = models.CharField(_("account number / IBAN"), max_length=40)
    swift = models.CharField(_("SWIFT/BIC"), max_length=11, blank=True)
    cnaps = models.CharField(_("CNAPS code"), max_length=12, blank=True,
                             help_text=_("12 digits; for transfers inside mainland China"))
    reference_note = models.CharField(
        _("reference format"), max_length=200, blank=True,
        help_text=_("How payers quote the reference, e.g. 'IPX reference in the remittance information'"))
    is_active = models.BooleanField(_("offered to payers"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "currency"], condition=models.Q(is_active=True),
                                               name="escrow_bank_account_one_active_per_currency")]
        verbose_name = _("escrow bank account")
        verbose_name_plural = _("escrow bank accounts")

    def __str__(self):
        return f"{self.currency} · {self.bank} · {self.account_number}"
