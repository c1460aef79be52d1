"""Private conversations: one per listing and buyer organization, between the buyer's members and the
seller's side (its members or its broker under a mandate); attachments checked by content; each
message notifies the other side; escrow staff may read a conversation when a dispute needs it."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Membership, Role
from accounts.selectors import active_organization
from core.audit import audit_record
from core.errors import NotAllowed, ValidationFailed
from core.notifications import notify
from core.permissions import has_role, is_member
from core.uploads import DOCUMENTS, validate_upload

from .models import Conversation, Message, Side
from .services import seller_side_for_listing

MAX_BODY = 4000


def side_in(user, conversation) -> tuple[str | None, object]:
    """("buyer", org) / ("seller", org) / ("staff", None) / (None, None)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None, None
    if is_member(user, conversation.buyer_org):
        return Side.BUYER, conversation.buyer_org
    seller_side, mandate = seller_side_for_listing(user, conversation.listing)
    if seller_side:
        return Side.SELLER, mandate.broker_org if mandate else conversation.listing.seller_org
    if user.is_superuser or has_role(user, Role.ESCROW_OFFICER):
        return "staff", None
    return None, None


def conversation_for(*, listing, actor) -> Conversation:
    """The buyer organization's conversation about the listing (created on first use)."""
    org = active_organization(actor) if actor is not None and actor.is_authenticated else None
    if org is None:
        raise NotAllowed(_("Join or register an organization in your account first."))
    if org.pk == listing.seller_org_id:
        raise NotAllowed(_("You cannot ask questions on your own listing."))
    try:
        with transaction.atomic():
            return Conversation.objects.get_or_create(listing=listing, buyer_org=org)[0]
    except IntegrityError:
        return Conversation.objects.get(listing=listing, buyer_org=org)


@transaction.atomic(durable=True)
def message_send(*, conversation, actor, body: str, file=None) -> Message:
    side, org = side_in(actor, conversation)
    if side not in (Side.BUYER, Side.SELLER):
        raise NotAllowed(_("Only the buyer and the seller (or its broker) write in this conversation."))
    body = (body or "").strip()
    if not body and file is None:
        raise ValidationFailed(_("Write a message."), field_errors={"body": [_("This field is required.")]})
    if len(body) > MAX_BODY:
        raise ValidationFailed(_("Keep the message under %(n)s characters.") % {"n": MAX_BODY},
                               field_errors={"body": [_("Too long.")]})
    content_type = ""
    if file is not None:
        try:
            content_type = validate_upload(file, allowed=DOCUMENTS)
        except ValidationError as exc:
            raise ValidationFailed(f"{file.name}: {' '.join(exc.messages)}", field_errors={"file": exc.messages}) from None
    message = Message(conversation=conversation, author=actor, author_org=org, side=side, body=body,
                      attachment_type=content_type)
    if file is not None:
        message.attachment.save(file.name.rsplit("/", 1)[-1], file, save=False)
    message.save()
    Conversation.objects.filter(pk=conversation.pk).update(last_message_at=timezone.now())
    audit_record(actor=actor, action="conversation.message", obj=message,
                 data={"conversation": conversation.pk, "side": side, "attachment": bool(file)})
    other = conversation.listing.seller_org if side == Side.BUYER else conversation.buyer_org
    notify(users=[m.user for m in Membership.objects.filter(organization=other).select_related("user")],
           kind="conversation.message", subject=gettext_lazy("New message about “%(title)s”"),
           body=gettext_lazy("%(org)s wrote: %(text)s"),
           params={"title": conversation.listing.title, "org": org.legal_name, "text": body[:200]},
           url=conversation.get_absolute_url())
    return message


def conversations_of_listing(listing):
    return Conversation.objects.filter(listing=listing).select_related("buyer_org")
