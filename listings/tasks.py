"""Celery tasks of listings: thin wrappers around services."""

from celery import shared_task

from core.models import Tenant
from core.tenancy import tenant_context

from .models import Listing
from .services import listing_recheck

BATCH = 500


@shared_task(name="listings.tasks.recheck_published")
def recheck_published(*, tenant_id, after_id=0):
    """Re-check a batch of the tenant's published listings against the register; queue the next batch."""
    with tenant_context(tenant_id):
        ids = list(Listing.objects.filter(state=Listing.State.PUBLISHED, pk__gt=after_id)
                   .order_by("pk").values_list("pk", flat=True)[:BATCH])
        lapsed = 0
        for listing in Listing.objects.filter(pk__in=ids).prefetch_related("rights").order_by("pk"):
            lapsed += listing_recheck(listing=listing)
    if len(ids) == BATCH:
        recheck_published.delay(tenant_id=tenant_id, after_id=ids[-1])
    return {"checked": len(ids), "lapsed": lapsed}


@shared_task(name="listings.tasks.recheck_all_tenants")
def recheck_all_tenants():
    for tenant_id in Tenant.objects.filter(is_active=True).values_list("pk", flat=True):
        recheck_published.delay(tenant_id=tenant_id)


@shared_task(name="listings.tasks.refresh_search_vocabulary")
def refresh_search_vocabulary(*, tenant_id=None):
    """Rebuild the "did you mean" vocabulary of one tenant, or queue it for every active tenant."""
    from .search import vocabulary_refresh

    if tenant_id is None:
        for pk in Tenant.objects.filter(is_active=True).values_list("pk", flat=True):
            refresh_search_vocabulary.delay(tenant_id=pk)
        return {"queued": True}
    with tenant_context(tenant_id) as tenant:
        return {"terms": vocabulary_refresh(tenant)}


@shared_task(name="listings.tasks.flush_listing_views")
def flush_listing_views():
    """Add the listing views buffered in Redis to Listing.view_count, exchange by exchange."""
    from .services import listing_views_flush

    updated = 0
    for pk in Tenant.objects.filter(is_active=True).values_list("pk", flat=True):
        with tenant_context(pk):
            updated += listing_views_flush()
    return {"updated": updated}
