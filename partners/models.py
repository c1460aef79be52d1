"""Partner API: keys, webhook endpoints and deliveries, idempotency records.

A `PartnerAPIKey` belongs to one tenant and one organization. It acts through its own service
user (a member of that organization, created when the key is issued), so the API calls the very
same services as the website with an ordinary `actor`, and every audit row names the key. The
service user cannot log in (unusable password, inactive) and, being inactive, receives no
notification emails: partners follow events through webhooks.
"""

import datetime as dt
import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from rest_framework_api_key.models import AbstractAPIKey, BaseAPIKeyManager

from core.tenancy import TenantManager, TenantOwned


class Scope(models.TextChoices):
    READ = "read", _("Read (register, listings, own orders, documents)")
    LISTINGS = "listings", _("Manage the organization's listings and bulk imports")
    ORDERS = "orders", _("Place orders and act on the organization's orders")
    WEBHOOKS = "webhooks", _("Manage webhook endpoints")
    FINANCING = "financing", _("Pledge loans and appraisals: apply, offer, sign, confirm, deliver")


class WebhookEvent(models.TextChoices):
    LISTING_VERIFIED = "listing.verified", _("Listing verified")
    LISTING_REJECTED = "listing.rejected", _("Listing rejected")
    ORDER_STATE_CHANGED = "order.state_changed", _("Order state changed")
    TRANSFER_NOTICE_RECEIVED = "transfer.notice_received", _("Transfer notice received")
    FINANCING_APPLICATION_OPENED = "financing.application_opened", _("Pledge loan application opened (lenders)")
    FINANCING_APPLICATION_STATE = "financing.application_state_changed", _("Pledge loan application changed state")
    FINANCING_LOAN_CONFIRMED = "financing.loan_confirmed", _("Loan disbursement or repayment confirmed")
    FINANCING_COLLATERAL_ALERT = "financing.collateral_alert", _("A pledged right needs attention (fee, status)")
    RIGHT_ALERT = "right.alert", _("Alert on a right (status, fees, recorded changes)")
    RIGHT_OWNER_RECORDED = "right.owner_recorded", _("New owner of record")
    RIGHT_ENCUMBRANCE_RECORDED = "right.encumbrance_recorded", _("Licence or pledge recorded")


class PartnerAPIKeyManager(BaseAPIKeyManager, TenantManager):
    """Scoped like every tenant-owned manager; key look-up (before the tenant is known) is explicit."""

    def get_usable_keys(self):
        return self.unscoped().filter(revoked=False).select_related("tenant", "organization", "service_user")


class PartnerAPIKey(AbstractAPIKey, TenantOwned):
    """A partner's key. The secret is shown once; only its hash and an 8-character prefix are kept.

    `prefix` (and so `id`) is unique across the platform: the key itself decides its tenant.
    """

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.PROTECT, related_name="api_keys", verbose_name=_("organization")
    )
    scopes = ArrayField(
        models.CharField(max_length=20, choices=Scope.choices), default=list, verbose_name=_("scopes"),
    )
    service_user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="partner_api_key", editable=False,
        help_text=_("The identity the key acts as: a member of the organization, named after the key."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)

    objects = PartnerAPIKeyManager()

    class Meta(AbstractAPIKey.Meta):
        indexes = [models.Index(fields=["tenant", "organization", "-created"])]
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        # this process's key cache (core.api.authentication) forgets it now and again after the commit
        from core.api.authentication import forget_key

        forget_key(self.prefix)
        transaction.on_commit(lambda: forget_key(self.prefix))

    def touch(self) -> None:
        """Record use, at most once a minute per key (no write on every request)."""
        now = timezone.now()
        if self.last_used_at and now - self.last_used_at < dt.timedelta(minutes=1):
            return
        PartnerAPIKey.objects.unscoped().filter(pk=self.pk).update(last_used_at=now)
        self.last_used_at = now

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    @property
    def is_usable(self) -> bool:
        return not self.revoked and not self.has_expired


def _new_secret() -> str:
    import secrets

    return "whsec_" + secrets.token_urlsafe(32)


class WebhookEndpoint(TenantOwned):
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="webhook_endpoints",
        verbose_name=_("organization"),
    )
    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    event_types = ArrayField(
        models.CharField(max_length=40, choices=WebhookEvent.choices), verbose_name=_("events"),
    )
    secret = models.CharField(max_length=100, default=_new_secret, editable=False,
                              help_text=_("Signs every delivery (HMAC-SHA256)."))
    is_active = models.BooleanField(pgettext_lazy("api key", "active"), default=True)
    # The language of the human-readable texts in its events (a right alert's `message`/`action`);
    # blank: the exchange's default language.
    language = models.CharField(_("language"), max_length=10, blank=True, choices=settings.LANGUAGES)
    created_by_key = models.ForeignKey(PartnerAPIKey, null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="+", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "organization", "is_active"])]
        ordering = ["-created_at", "-id"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self):
        return self.url


class WebhookDelivery(TenantOwned):
    """One event for one endpoint, retried with backoff for up to a day."""

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("delivery", "Pending")
        SUCCEEDED = "succeeded", _("Delivered")
        FAILED = "failed", _("Gave up")

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.UUIDField(default=uuid.uuid4, help_text=_("Same for every endpoint and every replay of one event."))
    event_type = models.CharField(_("event"), max_length=40)
    payload = models.JSONField()
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, default=timezone.now)
    give_up_at = models.DateTimeField(help_text=_("No retry after this time."))
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    response_code = models.PositiveIntegerField(_("response code"), null=True, blank=True)
    response_excerpt = models.TextField(_("response body (start)"), blank=True)
    last_error = models.TextField(_("error"), blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    replay_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replays")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "endpoint", "-created_at"]),
            models.Index(fields=["next_attempt_at"], condition=models.Q(status="pending"), name="webhook_due"),
        ]
        ordering = ["-created_at", "-id"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")

    def __str__(self):
        return f"{self.event_type} → {self.endpoint_id} ({self.status})"


class WebhookAttempt(TenantOwned):
    """The log of each HTTP attempt of a delivery."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    attempted_at = models.DateTimeField(default=timezone.now)
    response_code = models.PositiveIntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["tenant", "delivery", "attempted_at"])]
        ordering = ["attempted_at", "id"]
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")


class IdempotencyRecord(TenantOwned):
    """The first response to a POST with an `Idempotency-Key`, per API key, kept for replays."""

    api_key = models.ForeignKey(PartnerAPIKey, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text=_("SHA-256 of method, path and body"))
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True, help_text=_("Empty while in progress"))
    # The rendered JSON as text: JSONB refuses some strings a response may echo (e.g. \u0000).
    response_body = models.TextField(blank=True, default="")
    response_headers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "api_key", "key"], name="idempotency_key_unique"),
        ]
        indexes = [models.Index(fields=["created_at"])]
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")

    def __str__(self):
        return f"{self.method} {self.path} [{self.key}]"
