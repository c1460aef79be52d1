"""Where money going out lands, and payouts that wait for it.

A payout to a seller (or a margin returned) goes to the organization's destination for the provider
the money came in through: its verified bank account for bank transfers, its Stripe connected account
with payouts enabled for Stripe. While there is none, the payout is HELD — money stays in payout
clearing, seller and finance are told what is missing — and it goes out when accounts announces
`organization.payout_destination_ready` (finance verified new bank details; Stripe enabled payouts).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from core.events import on
from core.notifications import notify
from core.outbox import enqueue
from core.permissions import Role
from escrow.models import Disbursement

TO_SELLER = (Disbursement.Kind.PAYOUT, Disbursement.Kind.MARGIN_RETURN)


# Why a payout waits (untranslated: each reader sees it in their own language); params: org.
REASONS = {
    "no_bank": gettext_lazy("%(org)s has not entered the bank account payouts go to."),
    "bank_unverified": gettext_lazy("The payout bank account of %(org)s waits for verification by the exchange's "
                                    "finance team."),
    "no_stripe": gettext_lazy("%(org)s has not connected a Stripe account for payouts."),
    "stripe_disabled": gettext_lazy("Stripe has not enabled payouts for the connected account of %(org)s yet: "
                                    "finish Stripe's onboarding."),
}
# The same, told to the seller's members with what happens next.
HELD_BODIES = {
    "no_bank": gettext_lazy("%(org)s has not entered the bank account payouts go to. The money is held safely "
                            "and goes out as soon as this is done."),
    "bank_unverified": gettext_lazy("The payout bank account of %(org)s waits for verification by the exchange's "
                                    "finance team. The money is held safely and goes out as soon as this is done."),
    "no_stripe": gettext_lazy("%(org)s has not connected a Stripe account for payouts. The money is held safely "
                              "and goes out as soon as this is done."),
    "stripe_disabled": gettext_lazy("Stripe has not enabled payouts for the connected account of %(org)s yet: "
                                    "finish Stripe's onboarding. The money is held safely and goes out as soon as "
                                    "this is done."),
}


@dataclass(frozen=True)
class Destination:
    label: str  # what people are shown: "HSBC · Pearl River Institute · ····8838"
    usable: bool
    reason: str = ""  # why it is not usable: a key of REASONS
    org: str = ""

    @property
    def missing(self) -> str:
        """Why it is not usable, in words the seller can act on (in the active language)."""
        return str(REASONS[self.reason]) % {"org": self.org} if self.reason else ""


def payout_destination(organization: Any, provider: str) -> Destination:
    org = organization.legal_name
    if provider == "bank_transfer":
        if not organization.payout_bank_account:
            return Destination("", False, "no_bank", org)
        if not organization.payout_verified_at:
            return Destination(organization.payout_bank_label(), False, "bank_unverified", org)
        return Destination(organization.payout_bank_label(), True)
    if provider == "stripe":
        if not organization.stripe_account_id:
            return Destination("", False, "no_stripe", org)
        if not organization.stripe_payouts_enabled:
            return Destination(f"Stripe {organization.stripe_account_id}", False, "stripe_disabled", org)
        return Destination(f"Stripe {organization.stripe_account_id}", True)
    return Destination(_("Simulated account of %(org)s") % {"org": org}, True)


def refund_destination(disbursement: Disbursement) -> str:
    payment = disbursement.payment
    if payment is None:
        return ""
    return _("back to the payment %(ref)s (%(provider)s)") % {"ref": payment.reference,
                                                                "provider": payment.get_provider_display()}


def route(disbursement: Disbursement) -> bool:
    """Fill in where `disbursement` goes; HELD (and the people told) when the seller has no usable
    destination. Returns whether it may be sent now. The caller saves."""
    if disbursement.kind not in TO_SELLER:
        disbursement.destination = refund_destination(disbursement)[:300]
        return True
    destination = payout_destination(disbursement.recipient_org, disbursement.provider)
    disbursement.destination = destination.label[:300]
    if destination.usable:
        if disbursement.state == Disbursement.State.HELD:
            disbursement.state, disbursement.last_error = Disbursement.State.PENDING, ""
        return True
    disbursement.state, disbursement.last_error = Disbursement.State.HELD, destination.missing[:500]
    _tell_held(disbursement, destination)
    return False


def _tell_held(disbursement: Disbursement, destination: Destination) -> None:
    """Members and finance are told, each in their own language (the messages stay untranslated in the
    notification; the kind's label is a lazy parameter)."""
    org = disbursement.recipient_org
    members = list(User.objects.filter(memberships__organization=org, is_active=True).distinct())
    finance = list(User.objects.filter(tenant_roles__tenant_id=disbursement.tenant_id,
                                       tenant_roles__role=Role.FINANCE, is_active=True).distinct())
    kind = Disbursement.Kind(disbursement.kind).label  # lazy: rendered in the reader's language
    params = {"kind": kind, "org": destination.org}
    notify(users=members, kind="payout.held", subject=gettext_lazy("A payment to you is waiting: %(kind)s"),
           body=HELD_BODIES[destination.reason], params=params, url=f"/account/organizations/{org.pk}/")
    notify(users=finance, kind="payout.held", subject=gettext_lazy("Payout held: %(kind)s"),
           body=REASONS[destination.reason], params=params, url=f"/admin/escrow/disbursement/{disbursement.pk}/change/")


@on("organization.payout_destination_ready")
def _release_held(*, tenant: Any, data: dict[str, Any], organization: Any, actor: Any = None,
                  **_: Any) -> None:
    """Finance verified the bank details (or Stripe enabled payouts): held payouts go out now."""
    held = (Disbursement.objects.select_for_update(of=("self",)).select_related("recipient_org", "payment")
            .filter(recipient_org=organization, state=Disbursement.State.HELD).order_by("pk"))
    for disb in held:
        disb.recipient_org = organization
        if route(disb):
            disb.save(update_fields=["state", "destination", "last_error"])
            enqueue("escrow.tasks.execute_disbursement", disbursement_id=disb.pk, tenant_id=tenant.pk)
