"""What demand does when a lower app announces something (core.events)."""

from core.events import on
from core.outbox import enqueue


@on("listing.published")
def match_new_listing(*, tenant, data, **objects):
    """A listing went live: match it against open wants in a task (after commit)."""
    enqueue("demand.tasks.match_listing", tenant_id=tenant.pk, listing_id=data["listing"])
