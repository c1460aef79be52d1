"""Appraisal dispute evidence through the partner API: the client's dispute and the appraiser's answer
take files (PDF, PNG, JPEG, checked by content, at most 5) as multipart parts, with the same checks as
the website; both sides download them; a bad file or too many refuse the whole request, nothing
written."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from financing.models import AppraisalDispute, AppraisalDisputeEvidence
from tests.factories import report_pdf
from tests.financing.test_appraisals import _delivered, world  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


def _pdf(name="comparables.pdf"):
    return SimpleUploadedFile(name, report_pdf("Comparable deals, class G06F"), content_type="application/pdf")


def test_dispute_and_answer_with_files_through_the_api(client, world):  # noqa: F811
    appraisal = _delivered(world)
    base = f"/api/v1/financing/appraisals/{appraisal.reference}"
    # a file that is not what it says: refused, no dispute
    fake = SimpleUploadedFile("chart.png", b"MZ\x90\x00 not an image", content_type="image/png")
    r = client.post(f"{base}/dispute", {"reason": "The comparables are of another class.", "files": [fake]},
                    headers=world["c"])
    assert r.status_code == 400, r.content
    assert "chart.png" in r.json()["detail"]
    assert not AppraisalDispute.objects.exists()
    # six files: refused
    r = client.post(f"{base}/dispute", {"reason": "The comparables are of another class.",
                                        "files": [_pdf(f"f{i}.pdf") for i in range(6)]}, headers=world["c"])
    assert r.status_code == 400
    assert "at most 5" in r.json()["detail"]
    assert not AppraisalDisputeEvidence.objects.exists()
    # a PDF and a PNG: accepted
    r = client.post(f"{base}/dispute", {"reason": "The comparables are of another class.",
                                        "files": [_pdf(), SimpleUploadedFile("chart.png", PNG, "image/png")]},
                    headers=world["c"])
    assert r.status_code == 201, r.content
    evidence = r.json()["dispute"]["evidence"]
    assert [(e["party"], e["name"], e["content_type"]) for e in evidence] == [
        ("client", "comparables.pdf", "application/pdf"), ("client", "chart.png", "image/png")]
    # the appraiser downloads the client's file and answers with its own
    got = client.get(evidence[0]["download_url"], headers=world["a"])
    assert got.status_code == 200
    assert b"".join(got.streaming_content).startswith(b"%PDF")
    r = client.post(f"{base}/dispute/answer", {"answer": "The class is right; see the register extract.",
                                               "files": [_pdf("extract.pdf")]}, headers=world["a"])
    assert r.status_code == 200, r.content
    parties = [e["party"] for e in r.json()["dispute"]["evidence"]]
    assert parties == ["client", "client", "appraiser"]
    # the answer is stored with it
    assert AppraisalDispute.objects.get().answer.startswith("The class is right")
