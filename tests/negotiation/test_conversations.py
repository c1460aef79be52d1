"""Private conversation per listing and buyer organization: attachments checked by content, the other
side notified, strangers get 404, escrow staff can read it."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Role
from core.models import Notification
from negotiation.models import Conversation, Message
from tests.factories import escrow_staff, make_member, offer_listing
from tests.negotiation.test_dataroom import a_pdf

pytestmark = pytest.mark.django_db


def test_private_conversation_with_attachments(client, tenant):
    listing, seller = offer_listing()
    buyer = make_member()
    client.force_login(buyer)
    r = client.get(f"/deals/listings/{listing.pk}/conversation/")
    conversation = Conversation.objects.get()
    assert r["Location"] == conversation.get_absolute_url()
    client.post(conversation.get_absolute_url(), {"body": "Is there a licence in force in Japan?",
                                                  "file": SimpleUploadedFile("q.pdf", a_pdf(), "application/pdf")})
    # a file that is not what it claims is refused, nothing stored
    r = client.post(conversation.get_absolute_url(), {"body": "x", "file": SimpleUploadedFile(
        "fake.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")}, follow=True)
    assert "content was checked" in r.content.decode()
    assert Message.objects.count() == 1
    assert Notification.objects.filter(user=seller, kind="conversation.message").exists()
    client.force_login(seller)
    client.post(conversation.get_absolute_url(), {"body": "No licence in Japan."})
    message = Message.objects.first()
    assert client.get(f"/deals/messages/{message.pk}/attachment/").status_code == 200
    # strangers: 404; escrow staff: can read, cannot write
    client.force_login(make_member())
    assert client.get(conversation.get_absolute_url()).status_code == 404
    assert client.get(f"/deals/messages/{message.pk}/attachment/").status_code == 404
    staff = escrow_staff(roles=(Role.ESCROW_OFFICER,))
    client.force_login(staff)
    page = client.get(conversation.get_absolute_url()).content.decode()
    assert "No licence in Japan." in page
    client.post(conversation.get_absolute_url(), {"body": "staff note"})
    assert Message.objects.count() == 2
