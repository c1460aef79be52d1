"""Rights as the registers record them. `RegisterRecord` is public data shared by all exchanges (not
tenant-owned): one row per right per office, filled by the register gateway (`rights.registry`)."""

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.utils.translation import gettext_lazy as _


class Jurisdiction(models.TextChoices):
    CN = "CN", _("China")
    US = "US", _("United States")
    EP = "EP", _("Europe (EPO/EUIPO)")
    WO = "WO", _("International (WIPO)")


class RightKind(models.TextChoices):
    INVENTION = "invention", _("Invention patent")
    UTILITY_MODEL = "utility_model", _("Utility model")
    DESIGN = "design", _("Design")
    TRADEMARK = "trademark", _("Trademark")


class LegalStatus(models.TextChoices):
    VALID = "valid", _("In force")
    PENDING = "pending", _("Pending")
    LAPSED = "lapsed", _("Lapsed (fees unpaid)")
    EXPIRED = "expired", _("Expired")
    INVALIDATED = "invalidated", _("Invalidated")


class RegisterRecord(models.Model):
    """One right as the register (patent or trademark office) records it. Not tenant-owned."""

    number = models.CharField(max_length=40, help_text=_("Normalised application/registration number"))
    application_number = models.CharField(max_length=40, blank=True,
                                          help_text=_("When it differs from the number (US patents and trademarks)"))
    jurisdiction = models.CharField(max_length=2, choices=Jurisdiction.choices)
    kind = models.CharField(max_length=20, choices=RightKind.choices)
    publication_number = models.CharField(max_length=40, blank=True)
    title = models.CharField(max_length=500)
    title_en = models.CharField(max_length=500, blank=True)
    abstract = models.TextField(blank=True)
    owner_name = models.CharField(max_length=300)
    owner_country = models.CharField(max_length=2, blank=True)
    owner_registration_number = models.CharField(max_length=40, blank=True)
    filing_date = models.DateField(null=True, blank=True)
    grant_date = models.DateField(null=True, blank=True, help_text=_("Grant or registration date"))
    expiry_date = models.DateField(null=True, blank=True)
    legal_status = models.CharField(max_length=20, choices=LegalStatus.choices, default=LegalStatus.VALID)
    renewal_paid_through = models.DateField(null=True, blank=True)
    classes = ArrayField(models.CharField(max_length=20), default=list, blank=True)
    image_url = models.CharField(max_length=500, blank=True)
    encumbrances = models.JSONField(default=list, blank=True, help_text=_("Recorded pledges and licences"))
    keys = ArrayField(models.CharField(max_length=60), default=list, blank=True,
                      help_text=_("Lookup keys of every accepted form of its numbers (rights.numbers)"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["jurisdiction", "number"], name="register_number_unique")]
        indexes = [GinIndex(fields=["keys"], name="register_keys_gin"),
                   models.Index(fields=["jurisdiction", "kind", "owner_name"], name="register_owner_idx")]
        verbose_name = _("register record")
        verbose_name_plural = _("rights register")

    def __str__(self):
        return f"{self.jurisdiction} {self.number} {self.title}"

    def save(self, *args, **kwargs):
        from .numbers import keys_for_record

        self.keys = keys_for_record(jurisdiction=self.jurisdiction, kind=self.kind, number=self.number,
                                    application_number=self.application_number,
                                    publication_number=self.publication_number)
        super().save(*args, **kwargs)
