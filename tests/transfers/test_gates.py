from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from core.errors import NotAllowed, ValidationFailed
from escrow.models import OrderState
from listings.models import LegalStatus, RegisterRecord
from tests.factories import sign_all_papers, transfer_officer, transfer_order
from transfers.models import TransferFiling
from transfers.selectors import blocking_gates, current_filing, transfer_gates
from transfers.services import export_certificate_upload, transfer_file

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"


def codes(gates):
    return {g.code for g in blocking_gates(gates)}


def test_all_gates_open_when_signed_and_register_is_clean(tenant):
    order, seller, buyer = transfer_order()
    sign_all_papers(order, seller, buyer)
    assert codes(transfer_gates(order=order)) == set()


def test_unsigned_papers_block(tenant):
    order, seller, buyer = transfer_order()
    from transfers.services import transfer_prepare

    transfer_prepare(order=order)
    gates = transfer_gates(order=order)
    assert "signatures" in codes(gates)
    assert "seller (3 papers)" in next(g.message for g in gates if g.code == "signatures")


@pytest.mark.parametrize(("change", "message"), [
    ({"legal_status": LegalStatus.LAPSED}, "no longer in force"),
    ({"owner_name": "Someone Else Holdings"}, "owner of record"),
    ({"renewal_paid_through": timezone.localdate() - timedelta(days=1)}, "renewal fee"),
    ({"expiry_date": timezone.localdate() - timedelta(days=1)}, "expired"),
])
def test_register_recheck_blocks_filing(tenant, change, message):
    # given a signed order whose right changed in the register since listing
    order, seller, buyer = transfer_order()
    sign_all_papers(order, seller, buyer)
    RegisterRecord.objects.filter(number=order.listing.rights.get().number).update(**change)
    # when the officer files
    with pytest.raises(ValidationFailed, match=message):
        transfer_file(order=order, actor=transfer_officer())
    # then nothing moved
    order.refresh_from_db()
    assert order.state == OrderState.FUNDED
    assert current_filing(order).status == "preparing"


def test_chinese_patent_to_foreign_buyer_needs_export_certificate(tenant):
    # given a Chinese seller selling an invention patent to a Hong Kong buyer
    order, seller, buyer = transfer_order(buyer_country="HK")
    sign_all_papers(order, seller, buyer)
    # then filing is blocked with a clear message
    with pytest.raises(ValidationFailed, match="technology-export contract registration certificate"):
        transfer_file(order=order, actor=transfer_officer())
    # when the buyer tries to upload it, they may not
    upload = SimpleUploadedFile("cert.pdf", PDF, content_type="application/pdf")
    with pytest.raises(NotAllowed):
        export_certificate_upload(order=order, user=buyer, file=upload)
    # when the seller uploads something that is not a PDF or image (checked by content)
    fake = SimpleUploadedFile("cert.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    with pytest.raises(ValidationFailed, match="content was checked"):
        export_certificate_upload(order=order, user=seller, file=fake)
    # when the seller uploads the real certificate
    export_certificate_upload(order=order, user=seller, file=SimpleUploadedFile("cert.pdf", PDF))
    # then the gate opens and the officer files
    assert "export_certificate" not in codes(transfer_gates(order=order))
    filing = transfer_file(order=order, actor=transfer_officer())
    assert filing.status == "filed"


@pytest.mark.parametrize(("kind", "buyer_country", "needed"), [
    ("utility_model", "US", True), ("design", "US", False), ("trademark", "US", False), ("invention", "CN", False),
])
def test_export_certificate_only_for_inventions_and_utility_models_abroad(tenant, kind, buyer_country, needed):
    order, seller, buyer = transfer_order(kind=kind, buyer_country=buyer_country)
    sign_all_papers(order, seller, buyer)
    assert ("export_certificate" in codes(transfer_gates(order=order))) is needed


def test_uspto_recordation_late_is_flagged_not_blocked(tenant):
    from core.models import Notification

    # given a US patent whose papers were executed four months ago
    order, seller, buyer = transfer_order(jurisdiction="US")
    sign_all_papers(order, seller, buyer)
    filing = current_filing(order)
    TransferFiling.objects.filter(pk=filing.pk).update(executed_on=timezone.localdate() - timedelta(days=125))
    gates = transfer_gates(order=order)
    late = next(g for g in gates if g.code == "uspto_three_months")
    assert late.level == "warn"
    assert "three months" in late.message
    assert codes(gates) == set()
    # when filed, staff and parties are told and the filing is marked
    filed = transfer_file(order=order, actor=transfer_officer())
    assert filed.late_recordation is True
    assert Notification.objects.filter(kind="transfer.uspto_late", user=buyer).exists()
    assert Notification.objects.filter(kind="transfer.uspto_late", user=seller).exists()


def test_uspto_within_three_months_has_no_flag(tenant):
    order, seller, buyer = transfer_order(jurisdiction="US")
    sign_all_papers(order, seller, buyer)
    assert not [g for g in transfer_gates(order=order) if g.code == "uspto_three_months"]
