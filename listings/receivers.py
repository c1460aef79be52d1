"""Reactions of listings to what lower apps announce (core.events `@on` handlers):

- `right.alert` (rights' monitoring): the people watching a live listing that offers the right are
  told in the site — the right lapsed, changed status or owner, was pledged, licensed or opposed, or
  its fee is overdue — so a buyer does not pay for a right that is no longer what the listing says.
  A fee merely coming due is the holder's business and is not passed on. Runs after the alert's
  commit; one query for the watchers; each watcher is told once per alert (the alert exists once).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from core.events import on

WATCHER_ALERT_KINDS = ("status_change", "lapse", "fee_overdue", "assignment", "licence", "pledge", "owner_name",
                       "opposition")
# The kinds' names as rights shows them (the same words; listings does not import rights' models).
KIND_LABELS = {
    "status_change": _("Legal status changed"), "lapse": _("The right lapsed"),
    "fee_overdue": _("Fee overdue (late period)"), "assignment": _("Assignment recorded"),
    "licence": _("Licence recorded"), "pledge": _("Pledge recorded"), "owner_name": _("Owner of record changed"),
    "opposition": _("Opposition or invalidation"),
}


@on("right.alert")
def right_alert(*, tenant, data, **_objects):
    kind = data.get("kind")
    if kind not in WATCHER_ALERT_KINDS or not data.get("record"):
        return
    from core.notifications import Message, notify

    from .models import Listing, Watch

    watches = (Watch.objects.filter(listing__rights__register_record_id=data["record"],
                                    listing__state__in=[Listing.State.PUBLISHED, Listing.State.RESERVED])
               .select_related("user", "listing").distinct())
    by_listing: dict[int, tuple] = {}
    for watch in watches:
        if watch.user_id == watch.listing.created_by_id:
            continue
        listing, users = by_listing.setdefault(watch.listing_id, (watch.listing, []))
        users.append(watch.user)
    for listing, users in by_listing.values():
        notify(users=users, kind=f"listing.watched_right.{kind}",
               subject=_("A listing you watch: %(what)s (%(number)s)"),
               body=_("%(listing)s: %(message)s"),
               params={"what": KIND_LABELS[kind], "number": data.get("number", ""), "listing": listing.title,
                       # rendered in each watcher's language when read (older events: their text)
                       "message": Message.from_stored(data["message_i18n"]) if (data.get("message_i18n") or {}).get(
                           "__msgid__") else data.get("message", "")},
               url=listing.get_absolute_url(), email=kind in ("lapse", "assignment", "opposition"))
