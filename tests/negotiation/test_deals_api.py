"""Questions & answers, the data room and private conversations through the partner API: what each side
sees, the NDA before any document, watermarked downloads logged for the seller, and bad input → 4xx."""

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from negotiation import dataroom
from negotiation.models import DocumentView, Message, NdaAcceptance, Question
from tests.factories import api_headers, make_api_key, make_member, offer_listing
from transfers import papers

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_throttle(settings):
    settings.API_THROTTLE_RATE = "100000/min"


def org_of(user):
    return user.memberships.get().organization


def a_pdf(text="Claim chart"):
    return papers._render([papers._p(text)], title=text, reference="X")


def problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    return response.json()


def test_questions_asked_answered_and_anonymised_through_the_api(client, tenant):
    listing, _seller = offer_listing()
    buyer = make_member()
    _k, buyer_key = make_api_key(organization=org_of(buyer))
    _k, seller_key = make_api_key(organization=listing.seller_org)
    _k, other_key = make_api_key(organization=org_of(make_member()))
    url = f"/api/v1/listings/{listing.pk}/questions"
    # bad input: nothing asked, nothing stored
    body = problem(client.post(url, {"text": ""}, content_type="application/json", headers=api_headers(buyer_key)), 400)
    assert "text" in str(body)
    assert not Question.objects.exists()
    r = client.post(url, {"text": "Is it licensed in Japan?"}, content_type="application/json",
                    headers=api_headers(buyer_key))
    assert r.status_code == 201, r.content
    qid = r.json()["id"]
    # the seller sees who asked; another buyer sees nothing before a public answer
    seller_view = client.get(url, headers=api_headers(seller_key)).json()["results"]
    assert [(q["id"], q["asker"]) for q in seller_view] == [(qid, org_of(buyer).legal_name)]
    assert client.get(url, headers=api_headers(other_key)).json()["results"] == []
    # only the seller's side answers: the asker is refused, a stranger does not even find the question
    answer = f"/api/v1/questions/{qid}/answer"
    problem(client.post(answer, {"answer": "No.", "public": True}, content_type="application/json",
                        headers=api_headers(buyer_key)), 403)
    problem(client.post(answer, {"answer": "No.", "public": True}, content_type="application/json",
                        headers=api_headers(other_key)), 404)
    body = problem(client.post(answer, {"answer": "No."}, content_type="application/json",
                               headers=api_headers(seller_key)), 400)
    assert "public" in str(body)
    r = client.post(answer, {"answer": "No licence in Japan.", "public": True}, content_type="application/json",
                    headers=api_headers(seller_key))
    assert r.status_code == 200, r.content
    # public now: everyone reads it, the asker anonymised for others
    others = client.get(url, headers=api_headers(other_key)).json()["results"]
    assert [(q["answer"], q["asker"]) for q in others] == [("No licence in Japan.", None)]
    mine = client.get(url, headers=api_headers(buyer_key)).json()["results"]
    assert mine[0]["asker"] == org_of(buyer).legal_name


def test_the_data_room_through_the_api_nda_first_then_watermarked_and_logged(client, tenant):
    listing, seller = offer_listing()
    pdf = a_pdf()
    document = dataroom.dataroom_upload(listing=listing, actor=seller, title="Claim chart",
                                        file=SimpleUploadedFile("chart.pdf", pdf, "application/pdf"))
    buyer = make_member(full_name="Liu Yang")
    _k, buyer_key = make_api_key(organization=org_of(buyer))
    _k, seller_key = make_api_key(organization=listing.seller_org)
    room = f"/api/v1/listings/{listing.pk}/dataroom"
    file_url = f"/api/v1/dataroom/documents/{document.pk}/file"
    # before the NDA: the room says one document, lists none, and the file does not exist for the buyer
    body = client.get(room, headers=api_headers(buyer_key)).json()
    assert (body["nda_accepted"], body["document_count"], body["documents"]) == (False, 1, [])
    assert body["nda_text_sha256"] == hashlib.sha256(body["nda_text"].encode()).hexdigest()
    problem(client.get(file_url, headers=api_headers(buyer_key)), 404)
    # bad input: a wrong name, no consent, someone who is not a member — nothing recorded
    nda = f"{room}/nda"
    for data, field in (({"typed_name": "Someone Else", "signer_email": buyer.email, "consent": True}, "typed_name"),
                        ({"typed_name": "Liu Yang", "signer_email": buyer.email, "consent": False}, "consent"),
                        ({"typed_name": "Liu Yang", "signer_email": "nobody@example.com", "consent": True},
                         "signer_email"),
                        ({"typed_name": "Liu Yang", "consent": True}, "signer_email")):
        body = problem(client.post(nda, data, content_type="application/json", headers=api_headers(buyer_key)), 400)
        assert field in str(body), body
    assert not NdaAcceptance.objects.exists()
    r = client.post(nda, {"typed_name": "Liu Yang", "signer_email": buyer.email, "consent": True},
                    content_type="application/json", headers=api_headers(buyer_key))
    assert r.status_code == 200, r.content
    assert r.json()["nda_accepted"] is True
    assert [d["title"] for d in r.json()["documents"]] == ["Claim chart"]
    assert NdaAcceptance.objects.get().user == buyer
    # the download is a watermarked copy; the stored original is unchanged
    r = client.get(file_url, headers=api_headers(buyer_key))
    assert r.status_code == 200
    assert r["Content-Type"] == "application/pdf"
    assert r.content != pdf
    assert r.content.startswith(b"%PDF")
    document.refresh_from_db()
    with document.file.open("rb") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == document.sha256 == hashlib.sha256(pdf).hexdigest()
    assert DocumentView.objects.filter(document=document, organization=org_of(buyer)).count() == 1
    # the seller's side reads the access log; the buyer does not
    log = client.get(f"{room}/log", headers=api_headers(seller_key)).json()["results"]
    assert [(x["document"], x["organization"]) for x in log] == [("Claim chart", org_of(buyer).legal_name)]
    problem(client.get(f"{room}/log", headers=api_headers(buyer_key)), 404)


def test_a_private_conversation_through_the_api_with_an_attachment(client, tenant):
    listing, _seller = offer_listing()
    buyer = make_member()
    _k, buyer_key = make_api_key(organization=org_of(buyer))
    _k, seller_key = make_api_key(organization=listing.seller_org)
    _k, other_key = make_api_key(organization=org_of(make_member()))
    # bad input: an empty message, an unknown listing
    problem(client.post("/api/v1/conversations", {"listing_id": listing.pk, "body": " "},
                        content_type="application/json", headers=api_headers(buyer_key)), 400)
    problem(client.post("/api/v1/conversations", {"listing_id": 99999999, "body": "Hello"},
                        content_type="application/json", headers=api_headers(buyer_key)), 404)
    r = client.post("/api/v1/conversations", {"listing_id": listing.pk, "body": "Could we see the claim charts?"},
                    content_type="application/json", headers=api_headers(buyer_key))
    assert r.status_code == 201, r.content
    cid = r.json()["id"]
    # the seller's side lists it and answers with a PDF; a file that is not what it claims is refused
    assert [c["id"] for c in client.get("/api/v1/conversations", headers=api_headers(seller_key)).json()["results"]] \
        == [cid]
    messages_url = f"/api/v1/conversations/{cid}/messages"
    body = problem(client.post(messages_url, {"body": "x", "file": SimpleUploadedFile("a.pdf", b"MZ not a pdf",
                                                                                      "application/pdf")},
                               headers=api_headers(seller_key)), 400)
    assert "file" in str(body)
    r = client.post(messages_url, {"body": "Here it is.", "file": SimpleUploadedFile("chart.pdf", a_pdf(),
                                                                                     "application/pdf")},
                    headers=api_headers(seller_key))
    assert r.status_code == 201, r.content
    attachment = r.json()["attachment"]
    # the buyer reads both messages and downloads the attachment; a stranger finds nothing
    detail = client.get(f"/api/v1/conversations/{cid}", headers=api_headers(buyer_key)).json()
    assert [(m["side"], m["body"]) for m in detail["messages"]] == [("buyer", "Could we see the claim charts?"),
                                                                    ("seller", "Here it is.")]
    download = client.get(attachment, headers=api_headers(buyer_key))
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"%PDF")
    problem(client.get(f"/api/v1/conversations/{cid}", headers=api_headers(other_key)), 404)
    problem(client.post(messages_url, {"body": "hi"}, content_type="application/json",
                        headers=api_headers(other_key)), 404)
    problem(client.get(attachment, headers=api_headers(other_key)), 404)
    assert client.get("/api/v1/conversations", headers=api_headers(other_key)).json()["results"] == []
    assert Message.objects.count() == 2
