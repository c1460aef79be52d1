"""Negotiated deals (issue 14): offers and their rounds, the licences granted (with running royalty
terms), questions on listings. An accepted offer becomes an escrowed order through escrow's services."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.tenancy import TenantOwned


class Side(models.TextChoices):
    BUYER = "buyer", _("Buyer")
    SELLER = "seller", _("Seller")


class Offer(TenantOwned):
    """One negotiation between a buyer organization and the seller of a listing: the current price and
    terms (the last round) and whose turn it is. At most one open offer per listing and buyer."""

    class State(models.TextChoices):
        OPEN = "open", _("Under negotiation")
        ACCEPTED = "accepted", pgettext_lazy("offer state", "Accepted")
        REJECTED = "rejected", pgettext_lazy("offer state", "Rejected")
        EXPIRED = "expired", pgettext_lazy("offer state", "Expired")
        WITHDRAWN = "withdrawn", pgettext_lazy("offer state", "Withdrawn")

    listing = models.ForeignKey("listings.Listing", on_delete=models.PROTECT, related_name="offers")
    buyer_org = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="offers_made")
    seller_org = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="offers_received")
    buyer_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="offers_made",
                                   help_text=_("The buyer's member who made the offer (the order's buyer)"))
    seller_mandate = models.ForeignKey("accounts.Mandate", null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="+", help_text=_("The broker's mandate, when a broker "
                                                                     "negotiates for the seller"))
    buyer_mandate = models.ForeignKey("accounts.Mandate", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="+", help_text=_("The broker's mandate, when a broker "
                                                                    "negotiates for the buyer"))
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    waiting_for = models.CharField(max_length=10, choices=Side.choices, default=Side.SELLER)
    price_minor = models.PositiveBigIntegerField(_("price"))
    currency = models.CharField(max_length=3)
    terms = models.JSONField(default=dict, blank=True)
    expires_at = models.DateTimeField(_("valid until"))
    order = models.ForeignKey("escrow.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    close_reason = models.CharField(max_length=500, blank=True)
    buyer_anonymous = models.BooleanField(
        default=False, help_text=_("The seller's side is not told who the buyer is until the buyer says so or "
                                   "accepts (an offer answering an anonymous want)"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "listing", "buyer_org"], condition=models.Q(state="open"),
                                    name="offer_one_open_per_buyer"),
        ]
        indexes = [models.Index(fields=["tenant", "state", "expires_at"]),
                   models.Index(fields=["tenant", "listing", "-created_at"]),
                   models.Index(fields=["tenant", "buyer_org", "-created_at"]),
                   models.Index(fields=["tenant", "seller_org", "-created_at"])]
        ordering = ["-updated_at", "-id"]
        verbose_name = _("offer")
        verbose_name_plural = _("offers")

    def __str__(self):
        return f"#{self.pk} {self.listing_id} {self.price_minor} {self.currency}"

    def get_absolute_url(self):
        return f"/deals/offers/{self.pk}/"

    @property
    def is_open(self):
        return self.state == self.State.OPEN

    def buyer_name_for(self, side) -> str:
        """The buyer as `side` ("buyer", "seller", or None for staff) may see it: the seller's side sees
        "Anonymous buyer" while the buyer keeps itself unnamed."""
        if self.buyer_anonymous and side != Side.BUYER and side != "staff":
            return str(_("Anonymous buyer"))
        return self.buyer_org.legal_name


class OfferRound(TenantOwned):
    """Each move of a negotiation, in order: the offer, every counter, the answer."""

    class Kind(models.TextChoices):
        OFFER = "offer", _("Offer")
        COUNTER = "counter", _("Counter-offer")
        ACCEPT = "accept", _("Accepted")
        REJECT = "reject", pgettext_lazy("offer state", "Rejected")
        WITHDRAW = "withdraw", _("Withdrawn")
        EXPIRE = "expire", pgettext_lazy("offer state", "Expired")

    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="rounds")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    side = models.CharField(max_length=10, choices=Side.choices, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    acting_org = models.ForeignKey("accounts.Organization", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", help_text=_("The organization that acted (a broker or the party)"))
    price_minor = models.PositiveBigIntegerField(null=True, blank=True)
    terms = models.JSONField(default=dict, blank=True)
    note = models.TextField(blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("offer round")
        verbose_name_plural = _("offer rounds")

    def __str__(self):
        return f"{self.offer_id} {self.kind}"


class Question(TenantOwned):
    """A buyer's question on a listing. Answered publicly (shown on the listing, the asker anonymised)
    or privately (only the asker's organization sees the answer)."""

    class Visibility(models.TextChoices):
        PENDING = "pending", _("Not answered yet")
        PUBLIC = "public", _("Answered publicly")
        PRIVATE = "private", _("Answered privately")

    listing = models.ForeignKey("listings.Listing", on_delete=models.CASCADE, related_name="questions")
    asker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    asker_org = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("question"))
    answer = models.TextField(_("answer"), blank=True)
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.PENDING)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    asked_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "listing", "visibility"])]
        ordering = ["-asked_at", "-id"]
        verbose_name = _("question")
        verbose_name_plural = _("questions")

    def __str__(self):
        return self.text[:60]


class Licence(TenantOwned):
    """A licence granted through an order (negotiated or bought at the listed price), with its scope
    and running-royalty terms. Recorded once the office records the licence contract."""

    class State(models.TextChoices):
        PENDING = "pending", _("Being recorded")
        RECORDED = "recorded", _("Recorded by the office")
        ENDED = "ended", _("Ended")

    listing = models.ForeignKey("listings.Listing", on_delete=models.PROTECT, related_name="licences")
    order = models.OneToOneField("escrow.Order", on_delete=models.PROTECT, related_name="+")
    licensor_org = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    licensee_org = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="licences_held")
    exclusive = models.BooleanField(default=False)
    territory = models.CharField(max_length=200, blank=True)
    field_of_use = models.CharField(max_length=200, blank=True)
    term_months = models.PositiveIntegerField(null=True, blank=True)
    sublicensing = models.BooleanField(default=False)
    royalty_bps = models.PositiveIntegerField(default=0)
    royalty_base = models.CharField(max_length=30, blank=True)
    royalty_period = models.CharField(max_length=10, blank=True)
    royalty_minimum_minor = models.PositiveBigIntegerField(default=0)
    currency = models.CharField(max_length=3)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    recorded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "listing", "state"])]
        ordering = ["-created_at", "-id"]
        verbose_name = _("licence")
        verbose_name_plural = _("licences")

    def __str__(self):
        return f"{self.licensor_org} → {self.licensee_org} ({self.territory or '-'})"


def dataroom_path(instance, filename):
    return f"t{instance.tenant_id}/dataroom/{instance.listing_id}/{instance.sha256[:16]}-{filename[-80:]}"


class DataRoomDocument(TenantOwned):
    """A document in a listing's data room (claim charts, technical disclosure, encumbrance papers,
    licences in force). Never changed once stored: viewers get a watermarked copy."""

    listing = models.ForeignKey("listings.Listing", on_delete=models.CASCADE, related_name="dataroom_documents")
    title = models.CharField(_("title"), max_length=200)
    file = models.FileField(upload_to=dataroom_path)
    content_type = models.CharField(max_length=100)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["title", "id"]
        verbose_name = _("data room document")
        verbose_name_plural = _("data room documents")

    def __str__(self):
        return self.title


class NdaAcceptance(TenantOwned):
    """A buyer organization accepted the exchange's NDA for a listing's data room, recorded like a
    signature: typed name, explicit consent, IP address, and the SHA-256 of the NDA text accepted."""

    listing = models.ForeignKey("listings.Listing", on_delete=models.CASCADE, related_name="nda_acceptances")
    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    typed_name = models.CharField(max_length=150)
    consent = models.BooleanField(default=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    text_sha256 = models.CharField(max_length=64)
    accepted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "listing", "organization"], name="nda_once_per_org")]
        verbose_name = _("NDA acceptance")
        verbose_name_plural = _("NDA acceptances")

    def __str__(self):
        return f"{self.organization} · {self.listing_id}"


class DocumentView(TenantOwned):
    """Who opened which data-room document, when (the seller sees this)."""

    document = models.ForeignKey(DataRoomDocument, on_delete=models.CASCADE, related_name="views")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    organization = models.ForeignKey("accounts.Organization", null=True, on_delete=models.PROTECT, related_name="+")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    viewed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-viewed_at", "-id"]
        indexes = [models.Index(fields=["tenant", "document", "-viewed_at"])]
        verbose_name = _("document opened")
        verbose_name_plural = _("documents opened")


class Conversation(TenantOwned):
    """The private conversation of one buyer organization with the seller (and its broker) about one
    listing. Escrow staff may read it when a dispute needs it."""

    listing = models.ForeignKey("listings.Listing", on_delete=models.CASCADE, related_name="conversations")
    buyer_org = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_message_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "listing", "buyer_org"], name="conversation_once")]
        ordering = ["-last_message_at", "-id"]
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")

    def __str__(self):
        return f"{self.listing_id} · {self.buyer_org}"

    def get_absolute_url(self):
        return f"/deals/conversations/{self.pk}/"


def message_path(instance, filename):
    return f"t{instance.tenant_id}/conversations/{instance.conversation_id}/{filename[-80:]}"


class Message(TenantOwned):
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    author_org = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    side = models.CharField(max_length=10, choices=Side.choices)
    body = models.TextField(_("message"))
    attachment = models.FileField(upload_to=message_path, blank=True)
    attachment_type = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")

    def __str__(self):
        return self.body[:60]


class RoyaltyReport(TenantOwned):
    """One reporting period of a licence's running royalty: the licensee reports its base (sales or
    units) by `report_due`; the platform invoices the royalty (rate × base, at least the minimum);
    the licensee pays it through escrow by `payment_due`, and it is paid on to the licensor. A missed
    report or payment is a deadline like the others (beat marks it overdue and tells both parties)."""

    class State(models.TextChoices):
        DUE = "due", _("Report due")
        INVOICED = "invoiced", _("Invoiced, payment due")
        PAID = "paid", _("Paid")
        REPORT_OVERDUE = "report_overdue", _("Report overdue")
        PAYMENT_OVERDUE = "payment_overdue", _("Payment overdue")

    licence = models.ForeignKey(Licence, on_delete=models.PROTECT, related_name="royalty_reports")
    period_start = models.DateField()
    period_end = models.DateField()
    report_due = models.DateTimeField()
    state = models.CharField(max_length=20, choices=State.choices, default=State.DUE)
    base_minor = models.PositiveBigIntegerField(null=True, blank=True, help_text=_("Reported sales (minor units)"))
    units = models.PositiveBigIntegerField(null=True, blank=True)
    royalty_minor = models.PositiveBigIntegerField(null=True, blank=True)
    payment_due = models.DateTimeField(null=True, blank=True)
    payment_reference = models.CharField(max_length=30, blank=True)
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    reported_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "licence", "period_start"], name="royalty_period_once")]
        indexes = [models.Index(fields=["tenant", "state", "report_due"])]
        ordering = ["period_start", "id"]
        verbose_name = _("royalty report")
        verbose_name_plural = _("royalty reports")

    def __str__(self):
        return f"{self.licence_id} {self.period_start}–{self.period_end}"
