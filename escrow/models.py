"""Orders: one per purchase, a protected state machine (DESIGN section 2). Transitions hold only
in-memory checks; escrow/services.py locks, checks the actor, transitions, posts the ledger,
audits and notifies on commit."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, FSMField, FSMModelMixin, transition

from marketplace.tenancy import TenantOwned


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


S = OrderState
# An order in one of these states holds its listing (one live order per listing, enforced by a constraint).
LIVE_STATES = (S.PLACED, S.SELLER_CONFIRMED, S.FUNDED, S.TRANSFER_FILED, S.TRANSFER_APPROVED,
               S.TRANSFER_REJECTED, S.DISPUTED)
FINAL_STATES = (S.COMPLETED, S.CANCELLED, S.REFUNDED)
# After funding either party may dispute.
DISPUTABLE_STATES = (S.FUNDED, S.TRANSFER_FILED, S.TRANSFER_APPROVED, S.TRANSFER_REJECTED)


class Order(FSMModelMixin, TenantOwned):
    reference = models.CharField(max_length=20, help_text=_("Shown to people, e.g. IPX-2026-000123"))
    listing = models.ForeignKey("listings.Listing", on_delete=models.PROTECT, related_name="orders")
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders_bought")
    buyer_org = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="orders_bought")
    seller_org = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="orders_sold")
    state = FSMField(default=S.PLACED, choices=OrderState.choices, protected=True, db_index=True)
    disputed_from = models.CharField(max_length=20, blank=True, help_text=_("State to resume after a dispute"))

    # Snapshot of the deal and the tenant's fee schedule when placed: later changes never alter it.
    currency = models.CharField(max_length=3)
    price_minor = models.PositiveBigIntegerField()
    buyer_fee_minor = models.PositiveBigIntegerField(default=0)
    seller_commission_minor = models.PositiveBigIntegerField(default=0)
    buyer_fee_bps = models.PositiveIntegerField(default=0)
    seller_commission_bps = models.PositiveIntegerField(default=0)
    min_fee_minor = models.PositiveBigIntegerField(default=0)
    deal_type = models.CharField(max_length=30)
    payment_method = models.CharField(max_length=20, blank=True)

    # Deadlines (from the tenant's schedule, set as each step starts).
    seller_confirm_due = models.DateTimeField(null=True, blank=True)
    payment_due = models.DateTimeField(null=True, blank=True)
    filing_due = models.DateTimeField(null=True, blank=True)
    inspection_due = models.DateTimeField(null=True, blank=True)

    placed_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    funded_at = models.DateTimeField(null=True, blank=True)
    filed_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True, help_text=_("Cancelled or refunded at"))
    close_reason = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "listing"], condition=models.Q(state__in=LIVE_STATES), name="order_one_live_per_listing"
            ),
            models.UniqueConstraint(fields=["tenant", "reference"], name="order_reference_unique"),
        ]
        indexes = [
            models.Index(fields=["tenant", "state"]),
            models.Index(fields=["tenant", "buyer_org", "-placed_at"]),
            models.Index(fields=["tenant", "seller_org", "-placed_at"]),
        ]
        ordering = ["-placed_at", "-id"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")

    def __str__(self):
        return self.reference

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("escrow:order_detail", args=[self.reference])

    @property
    def total_minor(self) -> int:
        """What the buyer pays: price plus buyer fee."""
        return self.price_minor + self.buyer_fee_minor

    @property
    def payout_minor(self) -> int:
        """What the seller receives on release: price minus commission."""
        return self.price_minor - self.seller_commission_minor

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

    @transition(field=state, source=[S.FUNDED, S.TRANSFER_FILED, S.TRANSFER_REJECTED, S.DISPUTED], target=S.REFUNDED)
    def refund(self):
        pass
