"""Reads of listings that are more than a `get`: visibility, the verification checklist, similar marks."""

from __future__ import annotations

import difflib
import re

from django.db.models import Prefetch
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role
from core.events import answer
from core.permissions import has_role, is_member
from rights.registry import get_register

from .models import LegalStatus, Listing, RegisterRecord, Right, RightKind


def listing_for_viewer(*, pk, user) -> Listing:
    """The listing if `user` may see it: published ones to anyone; others to the seller's members and
    the tenant's staff. Anything else is a 404 (it does not exist for them)."""
    listing = (
        Listing.objects.select_related("seller_org")
        .prefetch_related(Prefetch("rights", queryset=Right.objects.select_related("register_record")))
        .filter(pk=pk).first()
    )
    if listing is None:
        raise Http404
    if listing.state in (Listing.State.PUBLISHED, Listing.State.RESERVED, Listing.State.SOLD, Listing.State.SOLD_OUT):
        return listing
    if user is not None and user.is_authenticated and (
        user.is_superuser or has_role(user, Role.VERIFIER, Role.TENANT_ADMIN, Role.ESCROW_OFFICER)
        or is_member(user, listing.seller_org)
    ):
        return listing
    raise Http404


def seller_listings(organization):
    return (
        Listing.objects.filter(seller_org=organization)
        .defer("search_document")
        .prefetch_related("rights")
        .order_by("-updated_at", "-id")
    )


def _norm_name(name: str) -> str:
    return re.sub(r"[\s,.，。()（）]+", "", (name or "").lower())


def owner_matches(owner_name: str, organization) -> bool:
    names = {_norm_name(organization.legal_name), _norm_name(organization.legal_name_en)} - {""}
    return _norm_name(owner_name) in names


ENCUMBRANCE_CONFLICTS = {
    # recorded encumbrance type -> deal types it conflicts with
    "pledge": {Listing.DealType.ASSIGNMENT, Listing.DealType.EXCLUSIVE_LICENCE, Listing.DealType.NON_EXCLUSIVE_LICENCE},
    "exclusive_licence": {Listing.DealType.ASSIGNMENT, Listing.DealType.EXCLUSIVE_LICENCE,
                          Listing.DealType.NON_EXCLUSIVE_LICENCE},
    "sole_licence": {Listing.DealType.EXCLUSIVE_LICENCE, Listing.DealType.NON_EXCLUSIVE_LICENCE},
    "non_exclusive_licence": {Listing.DealType.EXCLUSIVE_LICENCE},
}

def check_labels():
    # Re-evaluated per call so the labels follow the active language.
    return [
        ("owner", _("Owner of record is the seller's organization")),
        ("status", _("Legal status is valid (granted / registered, in force)")),
        ("term", _("Within its term")),
        ("renewal", _("Annuities / renewal fees paid")),
        ("encumbrances", _("No recorded pledge or licence that conflicts with the deal")),
    ]


def conflicting_encumbrances(listing: Listing) -> list[str]:
    """Recorded pledges or licences (read from the register now) that forbid this listing's deal: a sale
    or exclusive licence of a pledged right is refused until the pledge is released."""
    today = timezone.localdate()
    ids = [r.register_record_id for r in listing.rights.all() if r.register_record_id]
    labels = {"pledge": _("pledge"), "exclusive_licence": _("exclusive licence"), "sole_licence": _("sole licence"),
              "non_exclusive_licence": _("non-exclusive licence")}
    problems = []
    for record in RegisterRecord.objects.filter(pk__in=ids).order_by("pk"):
        for enc in record.encumbrances or []:
            kind = str(enc.get("type", "")).lower()
            if _active(enc, today) and listing.deal_type in ENCUMBRANCE_CONFLICTS.get(kind, set()):
                problems.append(_("%(right)s is under a recorded %(type)s in favour of %(holder)s; it cannot be sold "
                                  "or licensed exclusively until it is released.") % {
                    "right": f"{record.jurisdiction} {record.number}", "type": labels.get(kind, kind.replace("_", " ")),
                    "holder": enc.get("holder", "?")})
    return problems


def _active(enc, today):
    until = enc.get("until")
    return not until or str(until) >= today.isoformat()


def verification_checklist(listing: Listing, *, records: dict | None = None) -> list[dict]:
    """The automatic checks, each with what was found, over every right of the listing.

    `records` maps right pk -> the register record as read now (defaults to the linked record)."""
    today = timezone.localdate()
    results = {code: {"code": code, "label": label, "ok": True, "details": []} for code, label in check_labels()}
    rights = list(listing.rights.all())
    if not rights:
        for item in results.values():
            item["ok"] = False
            item["details"].append(_("The listing has no rights."))
    for right in rights:
        record = (records or {}).get(right.pk, right.register_record)
        label = f"{right.jurisdiction} {right.number}"
        if record is None:
            for item in results.values():
                item["ok"] = False
                item["details"].append(_("%(right)s: not found in the register.") % {"right": label})
            continue
        if not owner_matches(record.owner_name, listing.seller_org):
            results["owner"]["ok"] = False
            results["owner"]["details"].append(
                _("%(right)s: the register names %(owner)s, the seller is %(seller)s.")
                % {"right": label, "owner": record.owner_name, "seller": listing.seller_org.legal_name})
        if record.legal_status != LegalStatus.VALID:
            results["status"]["ok"] = False
            results["status"]["details"].append(_("%(right)s: %(status)s.") % {
                "right": label, "status": record.get_legal_status_display()})
        if record.expiry_date is None or record.expiry_date <= today:
            results["term"]["ok"] = False
            results["term"]["details"].append(
                _("%(right)s: expired on %(date)s.") % {"right": label, "date": record.expiry_date}
                if record.expiry_date else _("%(right)s: the register has no expiry date.") % {"right": label})
        paid = record.renewal_paid_through or (record.expiry_date if record.kind == RightKind.TRADEMARK else None)
        if paid is None or paid < today:
            results["renewal"]["ok"] = False
            results["renewal"]["details"].append(
                _("%(right)s: fees paid only until %(date)s.") % {"right": label, "date": paid}
                if paid else _("%(right)s: no record of paid fees.") % {"right": label})
        for enc in record.encumbrances or []:
            kind = str(enc.get("type", "")).lower()
            if _active(enc, today) and listing.deal_type in ENCUMBRANCE_CONFLICTS.get(kind, set()):
                results["encumbrances"]["ok"] = False
                results["encumbrances"]["details"].append(
                    _("%(right)s: recorded %(type)s in favour of %(holder)s (until %(until)s).") % {
                        "right": label, "type": kind.replace("_", " "), "holder": enc.get("holder", "?"),
                        "until": enc.get("until") or "-"})
    return list(results.values())


def _mark_key(title: str) -> str:
    return re.sub(r"[\W_]+", "", (title or "").lower())


def similar_marks_not_in_package(*, records: list[RegisterRecord]) -> list[tuple[RegisterRecord, RegisterRecord]]:
    """For Chinese trademarks: marks of the same owner, identical or similar, in overlapping classes,
    that are not in the package (CN law: such marks must be assigned together). Returns pairs
    (mark in the package, similar mark left out)."""
    in_package = {r.pk for r in records}
    out = []
    register = get_register()
    for record in records:
        if record.jurisdiction != "CN" or record.kind != RightKind.TRADEMARK:
            continue
        key = _mark_key(record.title)
        for other in register.owner_marks(owner_name=record.owner_name, jurisdiction="CN"):
            if other.pk in in_package or other.legal_status not in (LegalStatus.VALID, LegalStatus.PENDING):
                continue
            if not set(other.classes) & set(record.classes):
                continue
            other_key = _mark_key(other.title)
            similar = (key == other_key or (key and other_key and (key in other_key or other_key in key))
                       or difflib.SequenceMatcher(None, key, other_key).ratio() >= 0.6)
            if similar and all(o.pk != other.pk for _r, o in out):
                out.append((record, other))
    return out


@answer("rights.listed_records")
def listed_records(*, organization) -> dict[int, int]:
    """rights asks: which of this organization's register records are in a live listing, and which one
    ({register record id: listing id}; one query). rights owns portfolios, listings owns listings."""
    live = [Listing.State.DRAFT, Listing.State.SUBMITTED, Listing.State.IN_VERIFICATION,
            Listing.State.AWAITING_MARGIN, Listing.State.PUBLISHED, Listing.State.RESERVED, Listing.State.SOLD_OUT]
    return dict(Right.objects.filter(listing__seller_org=organization, listing__state__in=live,
                                     register_record__isnull=False).values_list("register_record_id", "listing_id"))
