"""One bid on an English auction, short enough for 50 bidders at once (issue 16: ≤ 50 ms p95).

The auction row lock serialises bids, so the time a bid holds it decides how many bids per second
one hot auction takes. `bid_place` therefore:

1. checks, without any lock, what a later bid cannot make acceptable: the amount against the minimum
   just read (it only rises), the auction's state and start, and the bidder's standing (organization,
   not the seller's, verified, deposit held) — the standing is cached per auction and user for
   `STANDING_SECONDS`, so a bidder's second bid costs no standing queries;
2. runs ONE statement, on its own (autocommit): lock the auction row, read the clock after the lock,
   re-check the end, the start, the minimum, the seller, the held deposit and the verification, and
   only then update the auction (high bid, price, count, anti-sniping end), insert the bid and the
   audit row. The lock is taken and released inside the database: no client round trip while it is
   held, so a bidder process that the operating system deschedules does not keep the others waiting;
3. tells the outbid organization after the statement (after the caller's commit when nested).

The database's answer is the authority (the cached standing only saves queries): a refused statement
returns the auction as locked, and the reason is worded from it.

`synchronous_commit` stays on: an accepted bid is a binding offer backed by a deposit and shown to
everyone as the highest; with it off, a crash could forget a bid the bidder (and the outbid ones) were
told was accepted, after the anti-sniping end moved, which no later step could put right.
"""

from __future__ import annotations

from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Organization
from accounts.selectors import active_organization
from core.errors import InvalidTransition, NotAllowed, NotFound, ValidationFailed
from core.models import AuditEvent
from core.money import format_money
from core.notifications import notify
from core.tenancy import require_tenant
from escrow.models import Deposit
from escrow.selectors import live_deposit

from .models import Auction, Bid
from .services import members

S = Auction.State
MAX_MINOR = 10**15
STANDING_SECONDS = 60


def when(dt) -> str:
    return timezone.localtime(dt).strftime("%Y-%m-%d %H:%M:%S")


def bidder_blocker(auction, actor, org=None) -> str:
    """Why `actor` may not bid (a message they can act on), or ''."""
    if actor is None or not actor.is_authenticated:
        return _("Log in to bid.")
    org = org or active_organization(actor)
    if org is None:
        return _("Register the organization you bid for in your account first.")
    if org.pk == auction.seller_org_id:
        return _("Your organization is selling this; it cannot bid in its own auction.")
    if not org.is_verified:
        return _("Only verified organizations can bid: have %(org)s verified in your account first.") % {
            "org": org.legal_name}
    deposit = live_deposit(auction.subject, org)
    if deposit is None or deposit.state == Deposit.State.PENDING:
        return _("Place the deposit of %(amount)s first; it is held by the exchange and returned if you do not win.") % {
            "amount": format_money(auction.deposit_minor, auction.currency)}
    return ""


def _standing_key(auction_id, user_id) -> str:
    return f"demand:bid-standing:{auction_id}:{user_id}"


def bidder_standing(auction, actor) -> int:
    """The organization `actor` bids for in `auction` once its standing is checked (cached per auction
    and user for STANDING_SECONDS); NotAllowed with the reason otherwise. A cached standing that no longer
    holds (verification withdrawn) is still refused by the bid statement, which then forgets it."""
    if actor is None or not actor.is_authenticated:
        raise NotAllowed(_("Log in to bid."))
    key = _standing_key(auction.pk, actor.pk)
    org_id = cache.get(key)
    if org_id:
        return int(org_id)
    org = active_organization(actor)
    blocker = bidder_blocker(auction, actor, org)
    if blocker:
        raise NotAllowed(blocker)
    cache.set(key, org.pk, STANDING_SECONDS)
    return int(org.pk)


def check_bid(auction, amount: int, now, *, locked: bool) -> None:
    """The auction-side reasons to refuse `amount` at `now`. Before the lock (`locked` False) the end
    read may be stale — a bid committing right now may extend it — so only the state decides there."""
    if auction.state != S.OPEN or (locked and now >= auction.ends_at):
        raise InvalidTransition(_("The auction ended at %(end)s; no more bids are accepted.") % {"end": when(auction.ends_at)})
    if now < auction.starts_at:
        raise InvalidTransition(_("The auction starts at %(start)s.") % {"start": when(auction.starts_at)})
    minimum = auction.minimum_bid_minor
    if amount < minimum:
        raise ValidationFailed(
            _("Bid at least %(min)s (the current price %(price)s plus the increment %(inc)s).")
            % {"min": format_money(minimum, auction.currency),
               "price": format_money(auction.current_price_minor or auction.start_price_minor, auction.currency),
               "inc": format_money(auction.increment_minor, auction.currency)}
            if auction.high_bid_id else
            _("The first bid is at least the start price, %(min)s.") % {"min": format_money(minimum, auction.currency)},
            field_errors={"amount": [_("At least %(min)s.") % {"min": format_money(minimum, auction.currency)}]})


# The locked section, in one statement. `cur` locks the row and (READ COMMITTED) returns its latest
# version once the lock is ours; `now_` reads the clock after that (a bid that waited past the end is
# refused); `ok` is the row when every condition holds; the three writes happen only then.
BID_SQL = """
WITH cur AS MATERIALIZED (
    SELECT id, state, starts_at, ends_at, high_bid_id, current_price_minor, increment_minor, start_price_minor,
           extension_seconds, seller_org_id, bid_count, currency
    FROM {auction} WHERE id = %(auction)s AND tenant_id = %(tenant)s FOR UPDATE
), now_ AS MATERIALIZED (
    SELECT cur.*, clock_timestamp() AS at,
           EXISTS (SELECT 1 FROM {deposit} d WHERE d.tenant_id = %(tenant)s AND d.subject = %(subject)s
                   AND d.payer_org_id = %(org)s AND d.state = 'held') AS deposit_held,
           EXISTS (SELECT 1 FROM {org} o WHERE o.tenant_id = %(tenant)s AND o.id = %(org)s
                   AND o.verification_status = 'verified') AS verified
    FROM cur
), ok AS MATERIALIZED (
    SELECT id, at, bid_count, nextval(pg_get_serial_sequence('{bid}', 'id')) AS bid_id,
           CASE WHEN extension_seconds > 0 AND ends_at - at < make_interval(secs => extension_seconds)
                THEN at + make_interval(secs => extension_seconds) ELSE ends_at END AS new_end
    FROM now_
    WHERE state = 'open' AND starts_at <= at AND at < ends_at AND seller_org_id <> %(org)s AND deposit_held AND verified
      AND %(amount)s >= CASE WHEN high_bid_id IS NULL THEN start_price_minor
                             ELSE current_price_minor + increment_minor END
), upd AS (
    UPDATE {auction} a SET high_bid_id = ok.bid_id, current_price_minor = %(amount)s, bid_count = ok.bid_count + 1,
                           ends_at = ok.new_end
    FROM ok WHERE a.id = ok.id
), bid AS (
    INSERT INTO {bid} (id, tenant_id, auction_id, bidder_id, bidder_org_id, amount_minor, placed_at)
    SELECT bid_id, %(tenant)s, id, %(user)s, %(org)s, %(amount)s, at FROM ok
), aud AS (
    INSERT INTO {audit} (tenant_id, actor_id, actor_label, action, object_type, object_id, from_state, to_state,
                         reason, data, ip_address, created_at)
    SELECT %(tenant)s, %(user)s, %(label)s, 'auction.bid', %(object_type)s, id::text, '', '', '',
           jsonb_build_object('bid', bid_id, 'amount_minor', %(amount)s, 'org', %(org)s,
                              'ends_at', to_json(new_end) #>> '{{}}'),
           NULL, at FROM ok
)
SELECT now_.state, now_.starts_at, now_.ends_at, now_.high_bid_id, now_.current_price_minor, now_.increment_minor,
       now_.start_price_minor, now_.seller_org_id, now_.currency, now_.at, now_.deposit_held, now_.verified,
       ok.bid_id, ok.new_end
FROM now_ LEFT JOIN ok ON true
"""


def _bid_sql() -> str:
    return BID_SQL.format(auction=Auction._meta.db_table, bid=Bid._meta.db_table, audit=AuditEvent._meta.db_table,
                          deposit=Deposit._meta.db_table, org=Organization._meta.db_table)


def bid_place(*, auction, actor, amount_minor) -> Bid:
    """One bid. Clear messages for: too low, before the start, after the end, no deposit, own
    organization, unverified organization. Queries: one read of the auction, the standing (two, the
    first time per auction and user in STANDING_SECONDS), one locked statement; then, when another
    organization was outbid, its notification. Not wrapped in a transaction: the statement is one."""
    try:
        amount = int(amount_minor)
    except (TypeError, ValueError):
        raise ValidationFailed(_("Enter the amount you bid."), field_errors={"amount": [_("Enter a number.")]}) from None
    if not (0 < amount <= MAX_MINOR):
        raise ValidationFailed(_("Enter an amount above zero."), field_errors={"amount": [_("Enter an amount above zero.")]})
    tenant = require_tenant()
    auction_id = getattr(auction, "pk", auction)
    seen = Auction.objects.filter(pk=auction_id).first()
    if seen is None:
        raise NotFound(_("This auction does not exist."))
    if seen.state != S.OPEN or timezone.now() < seen.starts_at:
        check_bid(seen, amount, timezone.now(), locked=False)  # over, or not yet begun: said before the standing
    org_id = bidder_standing(seen, actor)
    check_bid(seen, amount, timezone.now(), locked=False)
    with connection.cursor() as cursor:
        cursor.execute(_bid_sql(), {
            "auction": auction_id, "tenant": tenant.pk, "org": org_id, "user": actor.pk, "amount": amount,
            "subject": seen.subject, "label": actor.email, "object_type": Auction._meta.label_lower})
        row = cursor.fetchone()
    if row is None:
        raise NotFound(_("This auction does not exist."))
    (state, starts_at, ends_at, high_bid_id, price, increment, start_price, seller_org_id, currency, at,
     deposit_held, verified, bid_id, new_end) = row
    if bid_id is None:
        locked = Auction(pk=auction_id, state=state, starts_at=starts_at, ends_at=ends_at, high_bid_id=high_bid_id,
                         current_price_minor=price, increment_minor=increment, start_price_minor=start_price,
                         seller_org_id=seller_org_id, currency=currency, deposit_minor=seen.deposit_minor)
        check_bid(locked, amount, at, locked=True)
        cache.delete(_standing_key(auction_id, actor.pk))  # the standing no longer holds: say why
        raise NotAllowed(bidder_blocker(locked, actor) or _("You cannot bid in this auction."))
    bid = Bid(pk=bid_id, tenant=tenant, auction_id=auction_id, bidder=actor, bidder_org_id=org_id,
              amount_minor=amount, placed_at=at)
    if high_bid_id is not None:
        transaction.on_commit(lambda: _tell_outbid(auction_id, org_id, amount, currency, new_end))
    return bid


def _tell_outbid(auction_id, org_id, amount, currency, end) -> None:
    # Bids only rise, so the bid just below this one was the highest before it.
    previous = (Bid.objects.filter(auction_id=auction_id, amount_minor__lt=amount).order_by("-amount_minor")
                .values("bidder_org_id", "auction__listing__title").first())
    if previous is None or previous["bidder_org_id"] == org_id:
        return
    notify(users=members(previous["bidder_org_id"]), kind="auction.outbid", url=f"/auctions/{auction_id}/",
           subject=gettext_lazy("You were outbid on “%(title)s”"),
           body=gettext_lazy("The highest bid is now %(price)s; the auction ends at %(end)s."),
           params={"title": previous["auction__listing__title"], "price": format_money(amount, currency),
                   "end": when(end)}, email=False)


__all__ = ["bid_place", "bidder_blocker", "bidder_standing", "check_bid", "when", "STANDING_SECONDS"]
