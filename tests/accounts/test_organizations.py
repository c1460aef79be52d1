import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts import services
from accounts.models import Membership, Organization, Role
from accounts.selectors import active_organization, seller_blockers
from accounts.validators import validate_cn_resident_id, validate_registration_number
from core.errors import InvalidTransition, NotAllowed
from core.models import AuditEvent, Notification
from core.tenancy import tenant_context
from tests.factories import OrganizationFactory, UserFactory, make_member

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64


def _register(client, **overrides):
    data = {"kind": "company", "legal_name": "北京星河智能科技有限公司", "legal_name_en": "Xinghe AI", "country": "CN",
            "registration_number": "91110108MA01R2QF9G", "address": "北京市海淀区", "contact_email": "a@example.com"}
    data.update(overrides)
    return client.post("/account/organizations/new/", data, HTTP_ACCEPT_LANGUAGE="en")


def test_register_upload_submit_reject_fix_resubmit(client, tenant):
    # given a signed-up buyer
    user = make_member(org=False)
    verifier = make_member(roles=[Role.VERIFIER], org=False)
    client.force_login(user)
    # when they register their company
    response = _register(client)
    org = Organization.objects.get()
    assert response.status_code == 302
    assert response.url == f"/account/organizations/{org.pk}/"
    assert org.verification_status == "unverified"
    assert active_organization(user) == org
    assert "Upload the verification documents" in seller_blockers(user)[0]
    # submitting without a document is refused with a reason
    client.post(f"/account/organizations/{org.pk}/submit/")
    org.refresh_from_db()
    assert org.verification_status == "unverified"
    # they upload the business licence and submit
    response = client.post(f"/account/organizations/{org.pk}/documents/",
                           {"kind": "business_licence", "file": SimpleUploadedFile("licence.pdf", PDF)})
    assert response.status_code == 302
    assert org.documents.get().content_type == "application/pdf"
    client.post(f"/account/organizations/{org.pk}/submit/")
    org.refresh_from_db()
    assert org.verification_status == "pending"
    assert Notification.objects.filter(user=verifier, kind="organization.submitted").exists()
    # staff reject it with a reason, which the member sees
    services.organization_decide(organization=org, actor=verifier, approve=False, note="The licence is unreadable.")
    page = client.get(f"/account/organizations/{org.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "The licence is unreadable." in page
    # they fix the details and resubmit
    response = client.post(
        f"/account/organizations/{org.pk}/edit/",
        {"kind": "company", "legal_name": "北京星河智能科技有限公司", "legal_name_en": "Xinghe AI Ltd", "country": "CN",
         "registration_number": "91110108MA01R2QF9G", "address": "北京市海淀区中关村", "contact_email": "a@example.com"})
    assert response.status_code == 302
    client.post(f"/account/organizations/{org.pk}/submit/")
    org.refresh_from_db()
    assert org.verification_status == "pending"
    services.organization_decide(organization=org, actor=verifier, approve=True)
    assert seller_blockers(user) == []
    actions = list(AuditEvent.objects.filter(object_id=str(org.pk)).values_list("action", flat=True))
    assert actions[:3] == ["organization.create", "organization.document_add", "organization.submit"]
    assert actions[-1] == "organization.verify"


def test_renamed_exe_is_rejected_with_a_clear_message(client, tenant):
    user = make_member()
    org = Membership.objects.get(user=user).organization
    org.verification_status = "unverified"
    org.save()
    client.force_login(user)
    response = client.post(f"/account/organizations/{org.pk}/documents/",
                           {"kind": "business_licence", "file": SimpleUploadedFile("licence.pdf", EXE)},
                           HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "is not a PDF, PNG, JPEG file (its content was checked, not its name)" in response.content.decode()
    assert not org.documents.exists()


def test_oversized_upload_is_refused(client, tenant, settings):
    settings.UPLOAD_MAX_BYTES = 1024
    user = make_member()
    org = Membership.objects.get(user=user).organization
    client.force_login(user)
    response = client.post(f"/account/organizations/{org.pk}/documents/",
                           {"kind": "business_licence", "file": SimpleUploadedFile("big.pdf", PDF + b"0" * 4096)},
                           HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "the limit is 1.0" in response.content.decode()


@pytest.mark.parametrize(("number", "message"), [
    ("91110108MA01R2QF9H", "should be G, not H"),
    ("9111010", "has 18 characters; this one has 7"),
    ("91110108MA01R2QFIG", "cannot contain I"),
    ("", "Enter the registration number"),
])
def test_registration_form_explains_bad_uscc(client, tenant, number, message):
    client.force_login(make_member(org=False))
    response = _register(client, registration_number=number)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Organization.objects.exists()


def test_individual_needs_a_valid_chinese_id(client, tenant):
    client.force_login(make_member(org=False))
    response = _register(client, kind="individual", registration_number="110105194912310021")
    assert "should be X, not 1" in response.content.decode()
    response = _register(client, kind="individual", registration_number="11010519491231002x", legal_name="王五")
    assert response.status_code == 302
    assert Organization.objects.get().registration_number == "11010519491231002X"


def test_foreign_registration_numbers_are_free_form():
    assert validate_registration_number(kind="company", country="HK", number=" HK-CR-1 ") == "HK-CR-1"
    validate_cn_resident_id("11010519491231002X")


def test_same_registration_number_twice_is_a_form_error(client, tenant):
    OrganizationFactory(registration_number="91110108MA01R2QF9G")
    client.force_login(make_member(org=False))
    response = _register(client)
    assert response.status_code == 200
    assert "already registered on this exchange" in response.content.decode()


def test_switch_active_organization(client, tenant):
    user = make_member()
    second = services.organization_create(user=user, legal_name="Second Co", country="HK", registration_number="X1")
    assert active_organization(user) != second
    client.force_login(user)
    client.post(f"/account/organizations/{second.pk}/default/")
    assert active_organization(user) == second
    assert Membership.objects.filter(user=user, is_default=True).count() == 1


def test_other_peoples_organizations_are_404(client, tenant, other_tenant):
    mine = make_member()
    stranger_org = OrganizationFactory()
    client.force_login(mine)
    assert client.get(f"/account/organizations/{stranger_org.pk}/").status_code == 404
    assert client.post(f"/account/organizations/{stranger_org.pk}/submit/").status_code == 404
    from core.tenancy import tenant_context

    with tenant_context(other_tenant):
        theirs = OrganizationFactory()
    assert client.get(f"/account/organizations/{theirs.pk}/").status_code == 404


def test_pending_organization_cannot_be_edited_and_non_managers_cannot_act(tenant):
    owner = make_member(org=False)
    org = services.organization_create(user=owner, legal_name="Owner Co", country="HK", registration_number="HK1")
    colleague = UserFactory()
    Membership.objects.create(user=colleague, organization=org, is_admin=False)
    with pytest.raises(NotAllowed):
        services.organization_submit(organization=org, actor=colleague)
    org.verification_status = "pending"
    org.save()
    with pytest.raises(InvalidTransition):
        services.organization_update(organization=org, actor=owner, legal_name="Renamed")


def test_changing_identity_of_verified_org_needs_new_verification(tenant):
    owner = make_member(org=False)
    org = services.organization_create(user=owner, legal_name="Owner Co", country="HK", registration_number="HK1")
    org.verification_status = "verified"
    org.save()
    services.organization_update(organization=org, actor=owner, address="New address")
    org.refresh_from_db()
    assert org.verification_status == "verified"
    services.organization_update(organization=org, actor=owner, legal_name="Owner Holdings")
    org.refresh_from_db()
    assert org.verification_status == "unverified"


def test_manager_adds_a_colleague_of_this_exchange_only(client, tenant, other_tenant):
    owner = make_member(org=False)
    org = services.organization_create(user=owner, legal_name="Team Co", country="HK", registration_number="T1")
    colleague = make_member(org=False)
    with tenant_context(other_tenant):
        stranger = make_member(org=False)
    client.force_login(owner)
    client.post(f"/account/organizations/{org.pk}/members/", {"email": colleague.email.upper()})
    # an invitation (issue 10): the colleague becomes a member when they accept
    assert not Membership.objects.filter(user=colleague, organization=org).exists()
    assert Notification.objects.filter(user=colleague, kind="organization.invited").exists()
    invitation = org.invitations.get(user=colleague)
    services.invitation_answer(invitation=invitation, user=colleague, accept=True)
    assert Membership.objects.filter(user=colleague, organization=org, is_admin=False).exists()
    response = client.post(f"/account/organizations/{org.pk}/members/", {"email": stranger.email}, follow=True,
                           HTTP_ACCEPT_LANGUAGE="en")
    assert "has signed up on this exchange yet" in response.content.decode()
    assert not Membership.objects.filter(user=stranger).exists()
    client.force_login(colleague)
    assert client.post(f"/account/organizations/{org.pk}/members/", {"email": "x@example.com"}).status_code == 403
