"""Thin Celery wrappers around demand's services, each run in its tenant."""

from celery import shared_task
from django.utils import timezone

from core.models import Tenant
from core.tenancy import tenant_context


@shared_task(name="demand.tasks.match_listing")
def match_listing(*, tenant_id, listing_id):
    from .services import match_listing as run

    with tenant_context(Tenant.objects.get(pk=tenant_id)):
        return len(run(listing_id=listing_id))


@shared_task(name="demand.tasks.finish_due_auctions")
def finish_due_auctions():
    """Beat: close and settle every auction whose end has passed, and expire sellers' proposals whose
    deadline passed (each in its tenant)."""
    from .auctions import auction_finish
    from .models import Auction

    done = 0
    due = (Auction.objects.unscoped().filter(state__in=[Auction.State.OPEN, Auction.State.WON],
                                            ends_at__lte=timezone.now()).values_list("tenant_id", "pk"))
    for tenant_id, pk in list(due):
        with tenant_context(Tenant.objects.get(pk=tenant_id)):
            auction_finish(auction_id=pk)
            done += 1
    # runner-ups' deposits whose hold window passed before the winner paid
    from .auctions import runner_up_release_due

    held = (Auction.objects.unscoped().filter(runner_up_until__lte=timezone.now())
            .values_list("tenant_id", "pk"))
    for tenant_id, pk in list(held):
        with tenant_context(Tenant.objects.get(pk=tenant_id)):
            done += bool(runner_up_release_due(auction_id=pk))
    # the sellers' proposals below the reserve that the highest bidder left unanswered
    from .counteroffers import counter_offer_expire
    from .models import CounterOffer

    late = (CounterOffer.objects.unscoped().filter(state=CounterOffer.State.OPEN, deadline__lte=timezone.now())
            .values_list("tenant_id", "auction_id"))
    for tenant_id, pk in list(late):
        with tenant_context(Tenant.objects.get(pk=tenant_id)):
            done += counter_offer_expire(auction_id=pk)
    return done


@shared_task(name="demand.tasks.settle_auction")
def settle_auction(*, tenant_id, auction_id):
    """The winner's escrowed order (after the auction passed to the next bidder)."""
    from .auctions import auction_settle

    with tenant_context(Tenant.objects.get(pk=tenant_id)):
        return auction_settle(auction_id=auction_id).state
