import pytest

from financing import demo
from financing.models import FinancePartner, LoanApplication
from tests.factories import OrganizationFactory, make_member, register_record

pytestmark = pytest.mark.django_db


def test_demo_lists_a_bank_and_an_appraiser_and_opens_an_application_with_an_offer_once(tenant):
    org = OrganizationFactory(legal_name="清源大学技术转移中心")
    make_member(org=org, email=demo.SELLER)
    register_record(owner_name=org.legal_name)
    for _ in range(2):
        demo.seed({"zgc": tenant})
    assert sorted(FinancePartner.objects.values_list("kind", flat=True)) == ["appraiser", "bank"]
    application = LoanApplication.objects.get(applicant_org=org, state="open")
    offer = application.offers.get()
    assert offer.lender_org == FinancePartner.objects.get(kind="bank").organization
    assert offer.amount_minor == 4_000_000_00
