"""Listings. The register (`rights.RegisterRecord`) is public data shared by all exchanges;
`Right` is the tenant-owned snapshot of a register record that a seller lists; `Listing` is what
is sold (one right or a bundle) and moves through a protected state machine."""

import datetime

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from core.choices import choice_label
from core.money import Money
from core.tenancy import TenantOwned
from core.text import LONG_TEXT, NOTE_TEXT, length_validator, validate_single_line
from core.uploads import tenant_path
from rights.expiry import remaining_term
from rights.models import Jurisdiction, LegalStatus, RegisterRecord, RightKind  # noqa: F401 (fields here)


class Listing(FSMModelMixin, TenantOwned):
    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        IN_VERIFICATION = "in_verification", _("In verification")
        AWAITING_MARGIN = "awaiting_margin", _("Verified, awaiting margin")
        PUBLISHED = "published", _("Published")
        RESERVED = "reserved", _("Reserved")
        SOLD = "sold", _("Sold")
        SOLD_OUT = "sold_out", _("Sold out")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        LAPSED = "lapsed", _("Lapsed")

    class DealType(models.TextChoices):
        ASSIGNMENT = "assignment", _("Assignment")
        EXCLUSIVE_LICENCE = "exclusive_licence", _("Exclusive licence")
        NON_EXCLUSIVE_LICENCE = "non_exclusive_licence", _("Non-exclusive licence")

    class Pricing(models.TextChoices):
        FIXED = "fixed", _("Fixed price")
        OFFERS = "offers", _("Fixed price, offers welcome")
        ON_REQUEST = "on_request", _("Price on request")

    seller_org = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="listings",
                                   verbose_name=_("seller"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("created by"))
    title = models.CharField(_("title"), max_length=300, validators=[validate_single_line])
    description = models.TextField(_("description"), blank=True, max_length=LONG_TEXT,
                                   validators=[length_validator(LONG_TEXT)])
    price_minor = models.PositiveBigIntegerField(_("price"))
    currency = models.CharField(_("currency"), max_length=3)
    deal_type = models.CharField(_("deal type"), max_length=30, choices=DealType.choices, default=DealType.ASSIGNMENT)
    licence_term_months = models.PositiveIntegerField(_("licence term (months)"), null=True, blank=True)
    licence_territory = models.CharField(_("licence territory"), max_length=200, blank=True,
                                         validators=[validate_single_line])
    # Negotiation (issue 14): how the price is set, and licences' field of use, cap and sublicensing.
    # Columns added in wave 2 carry database defaults, so bulk loaders (bench/, COPY) need not name them.
    pricing = models.CharField(_("pricing"), max_length=12, choices=Pricing.choices, default=Pricing.FIXED,
                               db_default=Pricing.FIXED)
    offer_floor_minor = models.PositiveBigIntegerField(
        _("lowest offer considered"), null=True, blank=True,
        help_text=_("Offers below this are refused automatically (empty: no floor)"))
    licence_field = models.CharField(_("field of use"), max_length=200, blank=True, db_default="")
    licence_cap = models.PositiveIntegerField(
        _("most licensees"), null=True, blank=True,
        help_text=_("Non-exclusive licences: how many licensees at most (empty: no limit)"))
    licence_sublicensing = models.BooleanField(_("sublicensing allowed"), default=False, db_default=False)
    industry_tags = ArrayField(models.CharField(max_length=50), default=list, blank=True, verbose_name=_("industry tags"))
    state = FSMField(_("state"), default=State.DRAFT, choices=State.choices, protected=True, db_index=True)
    featured = models.BooleanField(_("featured"), default=False)
    view_count = models.PositiveIntegerField(_("views"), default=0, db_default=0,
                                             help_text=_("Times the public page was opened"))
    rejection_reason = models.TextField(_("rejection reasons"), blank=True, max_length=NOTE_TEXT)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # Margin (deposit) required before publication, fixed when verified (escrow holds it).
    margin_minor = models.PositiveBigIntegerField(_("margin"), default=0)
    # Verification: the checklist as computed and as confirmed by the verifier.
    verification = models.JSONField(default=dict, blank=True)
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    verified_at = models.DateTimeField(null=True, blank=True)
    lapsed_reason = models.TextField(blank=True, max_length=NOTE_TEXT)
    # Search columns, denormalised from the rights by listings.search.refresh_listing_search.
    kind = models.CharField(_("kind"), max_length=20, choices=RightKind.choices, blank=True)
    jurisdiction = models.CharField(_("jurisdiction"), max_length=2, choices=Jurisdiction.choices, blank=True)
    owner_name = models.CharField(_("owner of record"), max_length=300, blank=True)
    expiry_date = models.DateField(null=True, blank=True, help_text=_("Earliest expiry of the rights in the listing"))
    rights_count = models.PositiveSmallIntegerField(_("rights"), default=0)
    class_keys = ArrayField(models.CharField(max_length=20), default=list, blank=True)
    numbers = ArrayField(models.CharField(max_length=60), default=list, blank=True)
    search_document = SearchVectorField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "state", "-published_at"]),
            GinIndex(fields=["search_document"], name="listing_search_gin",
                     condition=models.Q(state="published")),
            GinIndex(fields=["numbers"], name="listing_numbers_gin", condition=models.Q(state="published")),
            GinIndex(fields=["class_keys"], name="listing_classes_gin", condition=models.Q(state="published")),
            # Sorts served in index order (forwards and backwards), ties broken by id as cursor pages need.
            models.Index(fields=["tenant", "price_minor", "id"], name="listing_price_id_idx",
                         condition=models.Q(state="published")),
            models.Index(F("tenant_id"), Coalesce("expiry_date", Value(datetime.date(1, 1, 1))).desc(),
                         F("id").desc(), name="listing_term_idx", condition=models.Q(state="published")),
            models.Index(fields=["tenant", "expiry_date"], name="listing_expiry_idx",
                         condition=models.Q(state="published")),
            models.Index(fields=["tenant", "kind", "-published_at"], name="listing_kind_idx",
                         condition=models.Q(state="published")),
            models.Index(fields=["tenant", "kind", "jurisdiction", "-published_at"], name="listing_kind_jur_idx",
                         condition=models.Q(state="published")),
            models.Index(fields=["tenant", "jurisdiction", "-published_at"], name="listing_jur_idx",
                         condition=models.Q(state="published")),
            models.Index(fields=["tenant", "deal_type", "-published_at"], name="listing_deal_idx",
                         condition=models.Q(state="published")),
            # Newest first, covering what a keyword search filters on: a very broad keyword is answered by
            # an index-only scan testing each entry's search document until a page is full.
            models.Index(fields=["tenant", "-published_at", "-id"], name="listing_newest_cover_idx",
                         include=["search_document", "kind", "jurisdiction", "deal_type", "price_minor",
                                  "expiry_date", "class_keys"],
                         condition=models.Q(state="published")),
            models.Index(fields=["tenant", "seller_org", "state"], name="listing_seller_idx"),
            # "My listings" (and the seller API's list): the organization's listings, last changed first
            models.Index(fields=["tenant", "seller_org", "-updated_at", "-id"], name="listing_seller_recent_idx"),
            # The home page's featured listings (a few in a million): without it, a walk of the newest.
            models.Index(fields=["tenant", "-published_at", "-id"], name="listing_featured_idx",
                         condition=models.Q(state="published", featured=True)),
        ]
        verbose_name = _("listing")
        verbose_name_plural = _("listings")


    # The labels of the choices shown on every card and row, without rebuilding the choices each time
    # (core.choices): the same strings as Django's get_FOO_display().
    def get_kind_display(self):
        return choice_label(Listing, "kind", self.kind)

    def get_jurisdiction_display(self):
        return choice_label(Listing, "jurisdiction", self.jurisdiction)

    def get_deal_type_display(self):
        return choice_label(Listing, "deal_type", self.deal_type)

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return f"/listings/{self.pk}/"

    @property
    def is_public(self):
        return self.state == self.State.PUBLISHED

    @property
    def price(self):
        return Money(int(self.price_minor), self.currency)

    @property
    def remaining(self):
        return remaining_term(self.expiry_date)

    @property
    def is_licence(self):
        return self.deal_type != self.DealType.ASSIGNMENT

    @property
    def takes_offers(self):
        return self.pricing in (self.Pricing.OFFERS, self.Pricing.ON_REQUEST)

    @property
    def price_on_request(self):
        return self.pricing == self.Pricing.ON_REQUEST

    # Transitions hold only in-memory checks; listings/services.py does lock, actor, save, audit.
    @transition(field=state, source=[State.DRAFT, State.REJECTED], target=State.SUBMITTED)
    def submit(self):
        pass

    @transition(field=state, source=State.SUBMITTED, target=State.IN_VERIFICATION)
    def start_verification(self):
        pass

    @transition(field=state, source=State.IN_VERIFICATION, target=State.PUBLISHED)
    def approve(self):
        pass

    @transition(field=state, source=State.IN_VERIFICATION, target=State.AWAITING_MARGIN)
    def approve_pending_margin(self):
        pass

    @transition(field=state, source=State.AWAITING_MARGIN, target=State.PUBLISHED)
    def margin_paid(self):
        pass

    @transition(field=state, source=[State.SUBMITTED, State.IN_VERIFICATION], target=State.REJECTED)
    def reject(self):
        pass

    @transition(field=state, source=State.PUBLISHED, target=State.RESERVED)
    def reserve(self):
        pass

    @transition(field=state, source=State.RESERVED, target=State.PUBLISHED)
    def release(self):
        pass

    @transition(field=state, source=State.RESERVED, target=State.SOLD)
    def mark_sold(self):
        pass

    # A non-exclusive licence listing with a cap: every licence taken → sold out (off the market);
    # an order cancelled or refunded before recordal frees a place → published again.
    @transition(field=state, source=State.PUBLISHED, target=State.SOLD_OUT)
    def sell_out(self):
        pass

    @transition(field=state, source=State.SOLD_OUT, target=State.PUBLISHED)
    def reopen(self):
        pass

    @transition(
        field=state,
        source=[State.DRAFT, State.SUBMITTED, State.REJECTED, State.AWAITING_MARGIN, State.PUBLISHED],
        target=State.WITHDRAWN,
    )
    def withdraw(self):
        pass

    @transition(field=state, source=State.PUBLISHED, target=State.LAPSED)
    def lapse(self):
        pass


def certificate_path(instance, filename):
    return tenant_path(instance, "listings", instance.listing_id, f"certificate-{filename}")


class Right(TenantOwned):
    """A right in a listing: the seller's claims, snapshotted from the register when listed."""

    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="rights")
    register_record = models.ForeignKey(RegisterRecord, null=True, blank=True, on_delete=models.SET_NULL)
    number = models.CharField(max_length=40)
    jurisdiction = models.CharField(max_length=2, choices=Jurisdiction.choices)
    kind = models.CharField(max_length=20, choices=RightKind.choices)
    title = models.CharField(max_length=500)
    abstract = models.TextField(blank=True)
    owner_name = models.CharField(max_length=300)
    filing_date = models.DateField(null=True, blank=True)
    grant_date = models.DateField(null=True, blank=True)
    expiry_date = models.DateField(null=True, blank=True)
    legal_status = models.CharField(max_length=20, choices=LegalStatus.choices, default=LegalStatus.VALID)
    renewal_paid_through = models.DateField(null=True, blank=True)
    classes = ArrayField(models.CharField(max_length=20), default=list, blank=True)
    image_url = models.CharField(max_length=500, blank=True)
    publication_number = models.CharField(max_length=40, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    certificate = models.FileField(_("certificate scan"), upload_to=certificate_path, blank=True)
    certificate_content_type = models.CharField(max_length=100, blank=True)
    filing_route = models.CharField(
        _("filing route"), max_length=200, blank=True,
        help_text=_("For a right the platform cannot file (e.g. a granted EP patent): the offices where the "
                    "transfer will be recorded, named by the seller"))

    class Meta:
        indexes = [models.Index(fields=["tenant", "jurisdiction", "number"])]
        ordering = ["position", "id"]
        verbose_name = _("right")
        verbose_name_plural = _("rights")

    def get_kind_display(self):
        return choice_label(Right, "kind", self.kind)

    def get_jurisdiction_display(self):
        return choice_label(Right, "jurisdiction", self.jurisdiction)

    def __str__(self):
        return f"{self.jurisdiction} {self.number}"

    @property
    def display_title(self):
        """The title in the reader's language where the register has both (else the snapshot's)."""
        record = self.register_record
        return record.title_for() if record is not None else self.title

    @property
    def display_abstract(self):
        record = self.register_record
        return (record.abstract_for() if record is not None else "") or self.abstract

    @property
    def remaining(self):
        return remaining_term(self.expiry_date)


class Watch(TenantOwned):
    """A listing on a user's watchlist."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watches")
    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="watches")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "user", "listing"], name="watch_unique")]
        verbose_name = _("watched listing")
        verbose_name_plural = _("watchlist")

    def __str__(self):
        return f"{self.user} · {self.listing}"


class PriceChange(TenantOwned):
    """The asking price of a listing changed (audited too): shown on the listing as its price history."""

    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="price_changes")
    old_price_minor = models.PositiveBigIntegerField()
    new_price_minor = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    old_pricing = models.CharField(max_length=12, blank=True)
    new_pricing = models.CharField(max_length=12, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "listing", "-changed_at"])]
        ordering = ["-changed_at", "-id"]
        verbose_name = _("price change")
        verbose_name_plural = _("price changes")

    def __str__(self):
        return f"{self.listing_id}: {self.old_price_minor} → {self.new_price_minor} {self.currency}"


class ListingToVerify(Listing):
    """The verification queue in the back-office (submitted listings)."""

    class Meta:
        proxy = True
        verbose_name = _("listing to verify")
        verbose_name_plural = _("verification queue")


class SearchTerm(TenantOwned):
    """The exchange's search vocabulary: words and Chinese terms of published titles and tags, with how
    many listings use them. "Did you mean" looks up the nearest term by trigram similarity
    (listings.search.suggest); refreshed by listings.search.vocabulary_refresh (daily, and by seeding)."""

    term = models.CharField(max_length=60)
    listings = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "term"], name="search_term_unique")]
        indexes = [GinIndex(fields=["term"], name="search_term_trgm", opclasses=["gin_trgm_ops"])]
        verbose_name = _("search term")
        verbose_name_plural = _("search vocabulary")

    def __str__(self):
        return self.term
