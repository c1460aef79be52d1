"""Pledge recordals through the transfers filing machinery: office routes per kind of right, the
manual adapter (staff record the reference and the notice on the website), the notice named for a
pledge, and races on separate connections."""

import html

import pytest

from financing import services
from financing.models import ApplicationState, LoanApplication, PartnerKind
from rights.models import RegisterRecord
from tests.escrow.test_concurrency import run_at_once
from tests.factories import (
    finance_partner,
    finance_staff,
    held_record,
    open_application,
    register_record,
    rights_holder,
)
from transfers.models import RecordalFiling
from transfers.offices import pledge_route
from transfers.services import recordal_poll_due


@pytest.mark.parametrize(("jurisdiction", "kind", "office"), [
    ("CN", "invention", "cnipa_patent"), ("CN", "utility_model", "cnipa_patent"), ("CN", "design", "cnipa_patent"),
    ("CN", "trademark", "cnipa_trademark"), ("US", "invention", "uspto_patent"), ("US", "trademark", "uspto_trademark"),
    ("CN", "software_copyright", "cpcc"), ("EP", "invention", None), ("WO", "trademark", None),
])
def test_pledge_routes(jurisdiction, kind, office):
    assert pledge_route(jurisdiction, kind) == office


def _signed(holder_tuple=None, **kw):
    application, holder, records = open_application(holder=holder_tuple, **kw)
    bank, banker = finance_partner(kind=PartnerKind.BANK, legal_name="China Merchants Bank Beijing Branch")
    offer = services.offer_make(actor=banker, organization=bank.organization, application=application,
                                amount_minor=1_000_000_00, rate_bps=350, term_months=12)
    services.offer_accept(actor=holder, offer=offer)
    for user in (holder, banker):
        services.contract_sign(actor=user, application=application, typed_name="Signer", consent=True)
    application.refresh_from_db()
    return application, holder, banker, records


@pytest.mark.django_db
def test_a_right_without_a_pledge_route_is_refused(tenant):
    org, user, _r = rights_holder()
    ep = held_record(org, jurisdiction="EP", number="EP1234567")
    with pytest.raises(Exception) as refused:
        open_application(holder=(org, user, [ep]))
    assert "cannot file a pledge" in str(refused.value)
    assert not LoanApplication.objects.exists()


@pytest.mark.django_db
def test_the_simulated_office_notice_names_the_pledge(tenant):
    application, _h, _b, _r = _signed()
    services.pledge_file(actor=finance_staff(), application=application)
    recordal_poll_due()
    filing = RecordalFiling.objects.get()
    assert filing.status == "approved"
    assert filing.notice_text.startswith("专利权质押登记通知书 / Notice of registration of a patent pledge")


@pytest.mark.django_db
def test_a_real_office_staff_record_reference_and_notice_on_the_website(client, tenant, settings):
    settings.TRANSFER_OFFICE_ADAPTER = "manual"
    application, _h, _b, records = _signed()
    staff = finance_staff()
    client.force_login(staff)
    en = {"Accept-Language": "en"}
    client.post(f"/financing/applications/{application.reference}/file-pledge/", headers=en)
    filing = RecordalFiling.objects.get()
    assert filing.status == "package_ready"
    page = client.get(application.get_absolute_url(), headers=en).content.decode()
    assert "record the reference it gave" in page
    # an empty reference: a clear message, nothing changes
    client.post(f"/financing/applications/{application.reference}/record-reference/", {"reference": " "}, headers=en)
    filing.refresh_from_db()
    assert filing.status == "package_ready"
    client.post(f"/financing/applications/{application.reference}/record-reference/", {"reference": "2026-ZY-0042"},
                headers=en)
    filing.refresh_from_db()
    assert (filing.status, filing.reference) == ("filed", "2026-ZY-0042")
    assert recordal_poll_due()["claimed"] == 0  # nothing to ask a real office
    client.post(f"/financing/applications/{application.reference}/record-notice/",
                {"kind": "approval", "number": "ZY-N-7", "text": "准予登记"}, headers=en)
    application.refresh_from_db()
    assert application.state == ApplicationState.PLEDGED
    record = RegisterRecord.objects.get(pk=records[0].pk)
    assert [(e["type"], e["reference"]) for e in record.encumbrances] == [("pledge", "2026-ZY-0042")]


@pytest.mark.django_db
def test_only_staff_file_and_see_the_pipeline(client, tenant):
    application, holder, _b, _r = _signed()
    client.force_login(holder)
    r = client.post(f"/financing/applications/{application.reference}/file-pledge/", headers={"Accept-Language": "en"},
                    follow=True)
    assert "Only the exchange's staff can do this." in html.unescape(r.content.decode())
    application.refresh_from_db()
    assert application.state == ApplicationState.SIGNED
    assert client.get("/financing/staff/").status_code == 404


@pytest.mark.django_db
def test_the_holder_applies_on_the_website_and_bad_input_keeps_nothing(client, tenant):
    org, user, records = rights_holder()
    foreign = register_record(owner_name="Other Owner Ltd.")
    client.force_login(user)
    en = {"Accept-Language": "en"}
    page = client.get(f"/financing/apply/?right={records[0].pk}", headers=en).content.decode()
    assert f'value="{records[0].pk}"' in page
    assert f'value="{foreign.pk}"' not in page  # only the organization's rights are offered
    r = client.post("/financing/apply/", {"rights": [records[0].pk], "amount": "", "term_months": "12",
                                          "purpose": "x"}, headers=en)
    assert r.status_code == 200
    assert not LoanApplication.objects.exists()
    r = client.post("/financing/apply/", {"rights": [records[0].pk], "amount": "1,200,000", "term_months": "12",
                                          "purpose": "Buy a machine"}, headers=en)
    application = LoanApplication.objects.get()
    assert r["Location"] == application.get_absolute_url()
    assert application.amount_minor == 1_200_000_00


@pytest.mark.django_db(transaction=True)
def test_two_applications_racing_for_one_right_one_wins(tenant):
    org, user, records = rights_holder()
    results = run_at_once(tenant, [lambda: open_application(holder=(org, user, records)) for _ in range(4)])
    winners = [r for r, e in results if r is not None]
    errors = [e for r, e in results if e is not None]
    assert len(winners) == 1, results
    assert all("already offered as security" in str(e) for e in errors), errors
    assert LoanApplication.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_offers_accepted_at_once_one_wins(tenant):
    application, holder, _records = open_application()
    offers = []
    for _ in range(3):
        bank, banker = finance_partner(kind=PartnerKind.BANK)
        offers.append(services.offer_make(actor=banker, organization=bank.organization, application=application,
                                          amount_minor=100_00, rate_bps=300, term_months=6))
    results = run_at_once(tenant, [lambda o=o: services.offer_accept(actor=holder, offer=o) for o in offers])
    assert len([r for r, e in results if r is not None]) == 1, results
    application.refresh_from_db()
    assert application.state == ApplicationState.ACCEPTED
    assert sorted(application.offers.values_list("state", flat=True)) == ["accepted", "declined", "declined"]
    assert application.documents.count() == 1


@pytest.mark.django_db
def test_monitoring_alerts_reach_the_lender_of_a_live_pledge(tenant):
    from core.events import emit
    from core.models import Notification

    application, holder, banker, records = _signed()
    services.pledge_file(actor=finance_staff(), application=application)
    recordal_poll_due()
    other_org, _u, other_records = rights_holder()  # an unpledged right: nobody is told
    before = Notification.objects.filter(user=banker).count()

    emit("right.alert", organizations=[], data={"record": records[0].pk, "kind": "fee_due", "number": records[0].number,
                                                "due": "2027-03-01"})
    emit("right.status_changed", organizations=[], data={"record": records[0].pk, "number": records[0].number})
    emit("right.alert", organizations=[], data={"record": other_records[0].pk, "kind": "fee_due"})
    # what rights.monitoring announces (its Alert kinds, due_by)
    emit("right.alert", organizations=[], data={"record": records[0].pk, "kind": "lapse", "number": records[0].number,
                                                "message": "The right lapsed", "due_by": None})

    notes = list(Notification.objects.filter(user=banker).order_by("id"))[before:]
    assert [n.kind for n in notes] == ["financing.collateral_fee_due", "financing.collateral_status_changed",
                                       "financing.collateral_lapse"]
    assert "2027-03-01" in notes[0].subject
    assert not Notification.objects.filter(user=holder, kind__startswith="financing.collateral").exists()
    entry = RegisterRecord.objects.get(pk=records[0].pk).encumbrances[0]
    assert entry["holder_organization"] == application.accepted_offer.lender_org_id


def test_the_lender_reads_the_rights_alert_in_their_language(tenant):
    from django.utils import translation
    from django.utils.translation import gettext_lazy

    from core.events import emit
    from core.models import Notification
    from core.notifications import Message

    application, _holder, banker, records = _signed()
    services.pledge_file(actor=finance_staff(), application=application)
    recordal_poll_due()
    message = Message(gettext_lazy("An opposition or invalidation was filed against %(right)s."),
                      {"right": f"CN {records[0].number}"})
    with translation.override("en"):  # the worker's language
        emit("right.alert", organizations=[], data={"record": records[0].pk, "kind": "opposition",
                                                    "number": records[0].number, "message": str(message),
                                                    "message_i18n": message.stored()})
    note = Notification.objects.filter(user=banker, kind="financing.collateral_opposition").get()
    with translation.override("zh-hans"):
        assert "An opposition" not in note.display_body
        assert records[0].number in note.display_body
    with translation.override("en"):
        assert "An opposition or invalidation was filed against" in note.display_body
