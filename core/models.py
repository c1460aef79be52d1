from __future__ import annotations

import time
from typing import ClassVar

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.utils.translation import gettext_lazy as _

from .tenancy import TenantOwned


def tenant_logo_path(instance: Tenant, filename: str) -> str:
    return f"t{instance.pk}/branding/logo-{int(time.time())}"


class Tenant(models.Model):
    """A regional IP exchange running its own branded marketplace on the platform."""

    slug = models.SlugField(unique=True)
    name = models.CharField(_("name"), max_length=120)
    name_en = models.CharField(_("name in English"), max_length=120, blank=True)
    tagline = models.CharField(_("tagline"), max_length=200, blank=True)
    tagline_en = models.CharField(_("tagline in English"), max_length=200, blank=True)
    hosts = ArrayField(models.CharField(max_length=253), help_text=_("Host names this exchange is served on."))
    logo = models.CharField(_("logo (static path)"), max_length=200, blank=True)
    logo_upload = models.FileField(_("logo"), upload_to=tenant_logo_path, blank=True,
                                   help_text=_("PNG, JPEG or WebP; shown in the header and as the icon"))
    primary_color = models.CharField(max_length=7, default="#1d4ed8")
    accent_color = models.CharField(max_length=7, default="#f59e0b")
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    languages = ArrayField(models.CharField(max_length=10), default=list, blank=True)
    default_language = models.CharField(max_length=10, default="zh-hans")
    support_email = models.EmailField(blank=True)
    country = models.CharField(max_length=2, default="CN")

    # Fee schedule (basis points; snapshotted on each order when placed).
    buyer_fee_bps = models.PositiveIntegerField(_("buyer fee (basis points)"), default=200)
    seller_commission_bps = models.PositiveIntegerField(_("seller commission (basis points)"), default=500)
    min_fee_minor = models.PositiveBigIntegerField(_("minimum fee (minor units)"), default=10000)
    # Seller margin (deposit) before a verified listing is published: percentage or fixed; 0 = none.
    margin_bps = models.PositiveIntegerField(_("seller margin (basis points of price)"), default=0)
    margin_fixed_minor = models.PositiveBigIntegerField(_("seller margin, fixed (minor units)"), default=0)
    # Deadlines of the trade, in days (DESIGN section 2).
    verified_buyer_above_minor = models.PositiveBigIntegerField(
        _("verified buyer organization required above (minor units)"), default=0,
        help_text=_("Orders above this price need a verified buyer organization; 0 means every order."))
    seller_confirm_days = models.PositiveSmallIntegerField(default=3)
    buyer_pay_days = models.PositiveSmallIntegerField(default=7)
    sign_and_file_days = models.PositiveSmallIntegerField(default=14)
    buyer_inspect_days = models.PositiveSmallIntegerField(default=7)
    # Auctions (demand): how long the runner-up's deposit stays held in case the winner does not pay, and
    # the exchange's share of a defaulting winner's forfeited deposit (the rest goes to the seller).
    auction_runner_up_hold_days = models.PositiveSmallIntegerField(
        _("auction runner-up deposit held (days)"), default=10,
        help_text=_("After an auction the runner-up's deposit stays held until the winner pays, at most this many "
                    "days; if the winner does not pay it counts towards the runner-up's order. 0: returned at the end."))
    deposit_forfeit_share_bps = models.PositiveIntegerField(
        _("exchange's share of a forfeited deposit (basis points)"), null=True, blank=True,
        help_text=_("Of a defaulting auction winner's deposit; the seller gets the rest. Empty: the order's commission "
                    "rate. Shown to bidders before they pay a deposit."))

    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [GinIndex(fields=["hosts"], name="tenant_hosts_gin")]
        verbose_name = _("exchange")
        verbose_name_plural = _("exchanges")

    def __str__(self) -> str:
        return self.name

    _host_cache: ClassVar[dict[str, tuple[Tenant | None, float]]] = {}
    HOST_CACHE_SECONDS = 30

    @classmethod
    def for_host(cls, host: str) -> Tenant | None:
        hit = cls._host_cache.get(host)
        if hit and hit[1] > time.monotonic():
            return hit[0]
        tenant = cls.objects.filter(hosts__contains=[host], is_active=True).first()
        cls._host_cache[host] = (tenant, time.monotonic() + cls.HOST_CACHE_SECONDS)
        return tenant

    @classmethod
    def clear_host_cache(cls) -> None:
        cls._host_cache.clear()

    def display_name(self, language: str | None = None) -> str:
        from django.utils.translation import get_language

        lang = language or get_language() or ""
        return self.name_en if lang.startswith("en") and self.name_en else self.name

    def display_tagline(self, language: str | None = None) -> str:
        from django.utils.translation import get_language

        lang = language or get_language() or ""
        return self.tagline_en if lang.startswith("en") and self.tagline_en else self.tagline

    @property
    def logo_url(self) -> str:
        """The uploaded logo (served by core.views.tenant_logo), else the static one, else ''."""
        from django.templatetags.static import static
        from django.urls import reverse

        if self.logo_upload:
            return f"{reverse('tenant_logo')}?v={self.logo_upload.name.rsplit('-', 1)[-1]}"
        return static(self.logo) if self.logo else ""

    @property
    def primary_host(self) -> str:
        return str(self.hosts[0])

    def absolute_url(self, path: str = "/") -> str:
        port = f":{settings.SITE_PORT}" if settings.SITE_PORT else ""
        return f"{settings.SITE_URL_SCHEME}://{self.primary_host}{port}{path}"


class AuditEvent(TenantOwned):
    """Append-only record of every state change and sensitive action: who, when, from, to, why."""

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    actor_label = models.CharField(max_length=200, blank=True, help_text=_("'system', an API key, ..."))
    action = models.CharField(max_length=80)
    object_type = models.CharField(max_length=80)
    object_id = models.CharField(max_length=64)
    from_state = models.CharField(max_length=40, blank=True)
    to_state = models.CharField(max_length=40, blank=True)
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "object_type", "object_id", "created_at"])]
        ordering = ["created_at", "id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit log")

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.object_type}#{self.object_id}"


class Notification(TenantOwned):
    """In-app notification; the email copy is sent by a task after commit."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=80)
    # As written in the recipient's language when it happened (admin, search, old rows) ...
    subject = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    # ... and the event itself: the untranslated messages and their parameters, so the inbox and the
    # email speak the reader's language of the moment they read it (core.notifications.render).
    subject_source = models.TextField(blank=True, default="")
    body_source = models.TextField(blank=True, default="")
    params = models.JSONField(default=dict, blank=True)
    url = models.CharField(max_length=500, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    # A failed email is retried by the task; after the last attempt it stays here, visible to staff.
    email_attempts = models.PositiveSmallIntegerField(default=0)
    email_error = models.CharField(max_length=500, blank=True)
    email_failed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "user", "read_at", "-created_at"])]
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self) -> str:
        return self.subject

    @property
    def display_subject(self) -> str:
        """The subject in the active language (rendered from the stored event when there is one)."""
        from .notifications import render

        return render(self.subject_source, self.params)[:300] if self.subject_source else self.subject

    @property
    def display_body(self) -> str:
        from .notifications import render

        return render(self.body_source, self.params) if self.body_source else self.body


class OutboxMessage(models.Model):
    """Transactional outbox: a task to queue, written in the same transaction as the change that
    asks for it and published after commit; whatever the broker refused is published later by
    `relay_outbox`, so a broker outage never breaks a request nor loses work."""

    task_name = models.CharField(max_length=200)
    kwargs = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["created_at"], condition=models.Q(sent_at__isnull=True), name="outbox_pending")]

    def __str__(self) -> str:
        return f"{self.task_name} {self.kwargs}"


class TenantCounter(TenantOwned):
    """Numbers people see (order and payment references), counted per exchange: no global sequence in
    tenant data, so each exchange's rows can live on its own database node (docs/citus-tables.md).
    `core.counters.next_number` increments one in the caller's transaction."""

    name = models.CharField(max_length=40)
    value = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="tenantcounter_unique")]

    def __str__(self) -> str:
        return f"{self.name} = {self.value}"
