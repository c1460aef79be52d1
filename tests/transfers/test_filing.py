import pytest

from core.errors import InvalidTransition, NotAllowed
from core.models import AuditEvent
from escrow.models import OrderState
from tests.factories import filed_order, sign_all_papers, transfer_officer, transfer_order
from transfers.models import FilingStatus, SimulatedOfficeCase
from transfers.selectors import current_filing
from transfers.services import transfer_file, transfer_record_notice, transfer_record_reference


def test_officer_files_and_gets_a_reference(tenant):
    # given a funded order with every paper signed
    order, seller, buyer = transfer_order()
    sign_all_papers(order, seller, buyer)
    officer = transfer_officer()
    # when the escrow officer files
    filing = transfer_file(order=order, actor=officer, ip_address="10.0.0.9")
    # then the simulated office returned a reference and the order is filed
    order.refresh_from_db()
    assert order.state == OrderState.TRANSFER_FILED
    assert filing.status == FilingStatus.FILED
    assert filing.reference.startswith("CNZL-")
    assert filing.filed_by == officer
    assert filing.next_poll_at is not None
    assert SimulatedOfficeCase.objects.filter(reference=filing.reference).exists()
    assert AuditEvent.objects.filter(action="transfer.filed", object_id=str(filing.pk), actor=officer).exists()
    assert AuditEvent.objects.filter(action="order.file_transfer", object_id=str(order.pk)).exists()


def test_only_escrow_officers_file(tenant):
    order, seller, buyer = transfer_order()
    sign_all_papers(order, seller, buyer)
    with pytest.raises(NotAllowed):
        transfer_file(order=order, actor=seller)


def test_filing_twice_is_refused_clearly(tenant):
    order, seller, buyer, officer, filing = filed_order()
    with pytest.raises(InvalidTransition):
        transfer_file(order=order, actor=officer)
    assert SimulatedOfficeCase.objects.count() == 1


def test_manual_office_produces_a_package_then_staff_record_reference_and_notice(tenant, settings):
    # given real offices (manual adapter)
    settings.TRANSFER_OFFICE_ADAPTER = "manual"
    order, seller, buyer = transfer_order(jurisdiction="US", kind="trademark")
    sign_all_papers(order, seller, buyer)
    officer = transfer_officer()
    # when the officer files, the package is ready but the order waits for the reference
    filing = transfer_file(order=order, actor=officer)
    order.refresh_from_db()
    assert filing.status == FilingStatus.PACKAGE_READY
    assert filing.office == "uspto_trademark"
    assert order.state == OrderState.FUNDED
    # when staff record the reference the office gave
    filing = transfer_record_reference(filing=filing, actor=officer, reference="  TM-900123456 ")
    order.refresh_from_db()
    assert filing.reference == "TM-900123456"
    assert filing.next_poll_at is None  # nobody polls a real office here
    assert order.state == OrderState.TRANSFER_FILED
    # when staff later record the approval notice
    result = transfer_record_notice(filing=filing, actor=officer, kind="approval", number="Reel 9001 Frame 12",
                                    text="Recorded.")
    order.refresh_from_db()
    assert result == "approved"
    assert order.state == OrderState.TRANSFER_APPROVED
    assert current_filing(order).notice_number == "Reel 9001 Frame 12"


def test_package_zip_has_cover_and_signed_papers(tenant, settings):
    import io
    import zipfile

    from transfers.models import TransferDocument
    from transfers.offices.manual import package_zip

    order, seller, buyer = transfer_order(jurisdiction="US")
    sign_all_papers(order, seller, buyer)
    cover = TransferDocument.objects.get(order=order, kind="cover", superseded=False)
    docs = TransferDocument.objects.filter(order=order, superseded=False).exclude(kind="cover")
    archive = zipfile.ZipFile(io.BytesIO(package_zip(cover=cover.data, documents=docs)))
    names = archive.namelist()
    assert "cover-data.json" in names
    assert "signed-agreement-v1.pdf" in names
    assert b"PTO-1595" in archive.read("cover-data.json")
