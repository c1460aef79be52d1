"""`{% transfer_panel order role %}`: the transfer part of the order page (papers, signatures,
export certificate, gates, filing, office notice). Prepares the papers lazily (idempotent) the first
time a funded order is viewed."""

import logging

from django import template

from transfers.models import SIGNED_KINDS, Party
from transfers.offices import PROFILES
from transfers.selectors import (
    buyer_sign_grace,
    current_documents,
    current_filing,
    filing_deadline,
    needs_export_certificate,
    papers_signable_now,
    return_document,
    return_filings,
    return_sign_deadline,
    return_signable_now,
    transfer_gates,
)
from transfers.services.common import is_officer, party_of, signing_party
from transfers.services.papers import CONSENT_TEXT, PREPARE_STATES

register = template.Library()


@register.simple_tag
def buyer_sign_grace_days() -> int:
    """`{% buyer_sign_grace_days as n %}`: days a paying buyer may still sign after the deadline (the
    order form states the rule; transfers owns it)."""
    return buyer_sign_grace().days
CLOSED_STATES = ("refunded", "cancelled")
log = logging.getLogger(__name__)


@register.inclusion_tag("transfers/_panel.html", takes_context=True)
def transfer_panel(context, order, role=None):
    request = context.get("request")
    user = getattr(request, "user", None)
    party, _mandate = signing_party(user, order)  # a member, or a broker whose mandate allows signing
    officer = is_officer(user)
    filing = current_filing(order)
    documents = current_documents(order)
    # Papers are generated only by the worker (the funded message, the deadline sweep, an officer's
    # "generate again"): a page view never runs the generation (it once re-ran a failing one each view).
    preparing = order.state in PREPARE_STATES and not any(d.kind in SIGNED_KINDS for d in documents)
    paper_failure = order.paper_failures.filter(resolved_at__isnull=True).first() if preparing else None
    papers = []
    for document in documents:
        signed = {s.party: s for s in document.signatures.all()}
        papers.append({
            "doc": document,
            "seller": signed.get(Party.SELLER),
            "buyer": signed.get(Party.BUYER),
            "mine_signed": party in signed if party else True,
        })
    signable = [p for p in papers if p["doc"].needs_signatures]
    can_sign = bool(party) and papers_signable_now(order, filing)
    to_sign = [p for p in signable if not p["mine_signed"]] if can_sign else []
    gates = transfer_gates(order=order, filing=filing, documents=[p["doc"] for p in signable]) \
        if order.state in ("funded", "transfer_rejected") and filing else []
    return {
        "request": request, "order": order, "party": party, "officer": officer, "filing": filing,
        "profile": PROFILES.get(filing.office) if filing and filing.office else None,
        "signable": signable, "others": [p for p in papers if not p["doc"].needs_signatures],
        "to_sign": to_sign, "can_sign": can_sign, "consent_text": CONSENT_TEXT,
        "closed": order.state in CLOSED_STATES, "on_hold": order.state == "disputed",
        "to_sign_any": not signable or any(not (p["seller"] and p["buyer"]) for p in signable), "gates": gates, "blocked": [g for g in gates if not g.ok and g.blocking],
        "needs_export": needs_export_certificate(order) if order.state in PREPARE_STATES else False,
        "state": order.state, "preparing": preparing, "paper_failure": paper_failure,
        "deadline": filing_deadline(order, [p["doc"] for p in signable]) if filing else None,
        "notice_doc": next((d for d in documents if d.kind == "notice"), None),
    }


@register.inclusion_tag("transfers/_return_panel.html", takes_context=True)
def transfer_back_panel(context, order):
    """The transfer back to the seller (a refund after the office recorded the buyer): the assignment back,
    who signed it, its filings with the office, and the officer's button to file it."""
    filings = return_filings(order)
    if not filings:
        return {"show": False}
    request = context.get("request")
    user = getattr(request, "user", None)
    party = party_of(user, order)
    document = return_document(order)
    signed = {sig.party: sig for sig in document.signatures.all()} if document else {}
    both = {Party.SELLER, Party.BUYER} <= set(signed)
    pending = order.state == "return_pending"
    deadline = return_sign_deadline(order, document)
    return {
        "show": True, "request": request, "order": order, "filings": filings, "document": document,
        "deadline": deadline if deadline is not None and deadline.phase != "signed" else None,
        "seller_sig": signed.get(Party.SELLER), "buyer_sig": signed.get(Party.BUYER),
        "can_sign": bool(party) and party not in signed and return_signable_now(order),
        "can_file": pending and both and is_officer(user)
        and any(f.status in ("preparing", "rejected") for f in filings),
        "pending": pending,
    }
