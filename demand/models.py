"""Wants (what buyers need), their matches with listings and monitored rights, answers and tenders,
and English auctions with bidders' deposits (held by escrow). DESIGN section 9: demand sits above
escrow; it learns about new listings from `core.events` and places orders through escrow services."""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.tenancy import TenantOwned


class DealWanted(models.TextChoices):
    ANY = "any", _("Assignment or licence")
    ASSIGNMENT = "assignment", _("Assignment")
    LICENCE = "licence", _("Licence")


class Want(TenantOwned):
    class State(models.TextChoices):
        OPEN = "open", pgettext_lazy("want state", "Open")
        CLOSED = "closed", pgettext_lazy("want state", "Closed")

    buyer_org = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="wants")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("what you need"), max_length=200)
    keywords = models.CharField(_("keywords"), max_length=500, blank=True)
    description = models.TextField(_("description"), blank=True)
    classes = ArrayField(models.CharField(max_length=20), default=list, blank=True,
                         help_text=_("IPC/CPC symbols or Nice classes as typed, normalised"))
    class_keys = ArrayField(models.CharField(max_length=20), default=list, blank=True)
    kinds = ArrayField(models.CharField(max_length=20), default=list, blank=True)
    territories = ArrayField(models.CharField(max_length=2), default=list, blank=True)
    deal_type = models.CharField(_("deal type"), max_length=20, choices=DealWanted.choices, default=DealWanted.ANY)
    budget_min_minor = models.PositiveBigIntegerField(_("budget from"), null=True, blank=True)
    budget_max_minor = models.PositiveBigIntegerField(_("budget up to"), null=True, blank=True)
    currency = models.CharField(max_length=3)
    deadline = models.DateField(_("deadline"))
    anonymous = models.BooleanField(_("anonymous"), default=False,
                                    help_text=_("Sellers see the want but not who posted it"))
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    search_document = SearchVectorField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "state", "-created_at"], name="want_open_idx"),
            GinIndex(fields=["class_keys"], name="want_classes_gin", condition=models.Q(state="open")),
            GinIndex(fields=["search_document"], name="want_search_gin", condition=models.Q(state="open")),
        ]
        ordering = ["-created_at", "-id"]
        verbose_name = _("want")
        verbose_name_plural = _("wants")

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return f"/wants/{self.pk}/"

    @property
    def shown_buyer(self):
        return _("Anonymous buyer") if self.anonymous else self.buyer_org.legal_name


class WithdrawReason(models.TextChoices):
    LISTING_WITHDRAWN = "listing_withdrawn", _("The seller took the listing off the market")
    LISTING_SOLD = "listing_sold", _("The listing was sold")
    LISTING_LAPSED = "listing_lapsed", _("The right lapsed; the listing was taken off the market")
    RIGHT_CLOSED = "right_closed", _("The holder no longer offers the right to buyers' wants")
    RIGHT_TRANSFERRED = "right_transferred", _("The right changed hands")
    RIGHT_LAPSED = "right_lapsed", _("The right lapsed or is no longer in force")


class Match(TenantOwned):
    """A want and something that may satisfy it: a published listing, or a right held in a monitored
    portfolio that is not for sale (source "portfolio")."""

    class Source(models.TextChoices):
        LISTING = "listing", _("Listing")
        PORTFOLIO = "portfolio", _("Right in a portfolio (not for sale)")

    want = models.ForeignKey(Want, on_delete=models.CASCADE, related_name="matches")
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.LISTING)
    listing = models.ForeignKey("listings.Listing", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="want_matches")
    record_key = models.CharField(max_length=80, blank=True, help_text=_("The right, for portfolio matches"))
    holder_org = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=300)
    score = models.FloatField()
    reasons = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True,
                                        help_text=_("The listing left the market or the right was closed to wants"))
    withdrawn_reason = models.CharField(max_length=20, choices=WithdrawReason.choices, blank=True)

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "want", "listing"], condition=models.Q(source="listing"),
                                    name="match_want_listing_unique"),
            models.UniqueConstraint(fields=["tenant", "want", "record_key"], condition=models.Q(source="portfolio"),
                                    name="match_want_record_unique"),
        ]
        indexes = [models.Index(fields=["tenant", "holder_org", "-created_at"])]
        ordering = ["-score", "-id"]
        verbose_name = _("match")
        verbose_name_plural = _("matches")


class Answer(TenantOwned):
    """A holder's answer to a want: one of their published listings, an indicative price and a note."""

    want = models.ForeignKey(Want, on_delete=models.CASCADE, related_name="answers")
    listing = models.ForeignKey("listings.Listing", on_delete=models.PROTECT, related_name="+")
    seller_org = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    price_minor = models.PositiveBigIntegerField(_("price"))
    note = models.TextField(_("note"), blank=True)
    offer_id = models.PositiveBigIntegerField(null=True, blank=True,
                                              help_text=_("The negotiation offer this answer opened (negotiation.Offer)"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "want", "listing"], name="answer_want_listing_unique")]
        ordering = ["created_at", "id"]


class Tender(TenantOwned):
    """Sealed offers among the holders who answered a want, until a deadline; then the buyer picks one,
    which becomes an escrowed order at the tendered price."""

    class State(models.TextChoices):
        OPEN = "open", _("Taking sealed offers")
        AWARDED = "awarded", _("Awarded")
        CANCELLED = "cancelled", _("Cancelled")

    want = models.OneToOneField(Want, on_delete=models.CASCADE, related_name="tender")
    deadline = models.DateTimeField(_("offers until"))
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    awarded_offer = models.ForeignKey("TenderOffer", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    order = models.ForeignKey("escrow.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    @property
    def sealed(self):
        from django.utils import timezone

        return self.state == self.State.OPEN and timezone.now() < self.deadline


class TenderOffer(TenantOwned):
    tender = models.ForeignKey(Tender, on_delete=models.CASCADE, related_name="offers")
    answer = models.ForeignKey(Answer, on_delete=models.PROTECT, related_name="+")
    seller_org = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    price_minor = models.PositiveBigIntegerField(_("price"))
    note = models.TextField(_("note"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "tender", "seller_org"], name="tenderoffer_one_per_org")]
        ordering = ["price_minor", "updated_at"]


class Auction(TenantOwned):
    """An English auction of a published listing: ascending bids of at least the increment, a hidden
    reserve, bidders' deposits held by escrow, anti-sniping extension of the end."""

    class State(models.TextChoices):
        OPEN = "open", pgettext_lazy("auction state", "Open")
        SOLD = "sold", _("Won; order placed")
        WON = "won", _("Won; order being placed")
        RESERVE_NOT_MET = "reserve_not_met", _("Reserve not met")
        NO_BIDS = "no_bids", _("Ended without bids")
        UNSOLD = "unsold", _("Ended unsold")
        CANCELLED = "cancelled", _("Cancelled")

    listing = models.ForeignKey("listings.Listing", on_delete=models.PROTECT, related_name="auctions")
    seller_org = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    currency = models.CharField(max_length=3)
    start_price_minor = models.PositiveBigIntegerField(_("start price"))
    reserve_minor = models.PositiveBigIntegerField(_("reserve (hidden)"), default=0)
    increment_minor = models.PositiveBigIntegerField(_("bid increment"))
    deposit_minor = models.PositiveBigIntegerField(_("bidder deposit"))
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"), help_text=_("Moves on when a bid comes in the last minutes"))
    scheduled_end = models.DateTimeField()
    extension_seconds = models.PositiveIntegerField(_("anti-sniping extension (seconds)"), default=120)
    state = models.CharField(max_length=16, choices=State.choices, default=State.OPEN, db_index=True)
    current_price_minor = models.PositiveBigIntegerField(default=0)
    high_bid = models.ForeignKey("Bid", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    bid_count = models.PositiveIntegerField(default=0)
    order = models.ForeignKey("escrow.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    defaulted_org_ids = ArrayField(models.BigIntegerField(), default=list, blank=True,
                                   help_text=_("Winners who did not pay: their deposits were forfeited"))
    runner_up_until = models.DateTimeField(
        null=True, blank=True, help_text=_("The runner-up's deposit is held until the winner pays, or until then"))
    agreed_price_minor = models.PositiveBigIntegerField(
        null=True, blank=True, help_text=_("Below the reserve: the price the highest bidder accepted from the seller"))
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "state", "ends_at"], name="auction_due_idx")]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "listing"], condition=models.Q(state="open"),
                                    name="auction_one_open_per_listing"),
        ]
        ordering = ["ends_at", "id"]
        verbose_name = _("auction")
        verbose_name_plural = _("auctions")

    def __str__(self):
        return f"#{self.pk} {self.listing.title}"

    def get_absolute_url(self):
        return f"/auctions/{self.pk}/"

    @property
    def subject(self) -> str:
        """What bidders' deposits are paid for (escrow's Deposit.subject)."""
        return f"auction:{self.pk}"

    @property
    def minimum_bid_minor(self) -> int:
        if self.high_bid_id:
            return self.current_price_minor + self.increment_minor
        return self.start_price_minor

    @property
    def reserve_met(self) -> bool:
        return self.high_bid_id is not None and self.current_price_minor >= self.reserve_minor

    @property
    def sale_price_minor(self) -> int:
        """What the winner's order costs: the highest bid, or the price agreed below the reserve."""
        return self.agreed_price_minor or self.current_price_minor


class Bid(TenantOwned):
    auction = models.ForeignKey(Auction, on_delete=models.PROTECT, related_name="bids")
    bidder = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    bidder_org = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    amount_minor = models.PositiveBigIntegerField()
    placed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "auction", "amount_minor"], name="bid_amount_unique")]
        ordering = ["-amount_minor"]
        verbose_name = _("bid")
        verbose_name_plural = _("bids")


class CounterOffer(TenantOwned):
    """Below the reserve, the seller proposes a price (at least the highest bid) to the highest bidder,
    who accepts it (→ the escrowed order at that price, their deposit counting) or declines it before
    the deadline. One per auction."""

    class State(models.TextChoices):
        OPEN = "open", pgettext_lazy("counter-offer state", "Awaiting the bidder")
        ACCEPTED = "accepted", pgettext_lazy("counter-offer state", "Accepted")
        DECLINED = "declined", pgettext_lazy("counter-offer state", "Declined")
        EXPIRED = "expired", pgettext_lazy("counter-offer state", "Expired")

    auction = models.ForeignKey(Auction, on_delete=models.PROTECT, related_name="counter_offers")
    bid = models.ForeignKey(Bid, on_delete=models.PROTECT, related_name="+")
    bidder_org = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    price_minor = models.PositiveBigIntegerField(_("proposed price"))
    deadline = models.DateTimeField(_("answer by"))
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "auction"], name="counteroffer_one_per_auction")]
        indexes = [models.Index(fields=["tenant", "state", "deadline"], name="counteroffer_due_idx")]
        verbose_name = _("counter-offer")
        verbose_name_plural = _("counter-offers")

    def __str__(self):
        return f"#{self.pk} auction {self.auction_id}: {self.price_minor}"
