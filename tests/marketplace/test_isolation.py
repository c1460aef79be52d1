"""A page or query for exchange A never shows exchange B's rows, even for a person registered on both."""

from accounts.models import Membership, Organization
from accounts.selectors import active_organization, user_organizations
from core.audit import audit_record
from core.models import AuditEvent, Notification
from core.notifications import notify
from core.tenancy import tenant_context
from tests.factories import OrganizationFactory, UserFactory


def _both(tenant, other_tenant):
    user = UserFactory()
    mine = OrganizationFactory(legal_name="Alpha Org")
    Membership.objects.create(user=user, organization=mine, is_default=True)
    notify(users=[user], kind="t", subject="alpha news", email=False)
    audit_record(actor=user, action="alpha.did", obj=mine)
    with tenant_context(other_tenant):
        theirs = OrganizationFactory(legal_name="Beta Org")
        Membership.objects.create(user=user, organization=theirs, is_default=True)
        notify(users=[user], kind="t", subject="beta news", email=False)
        audit_record(actor=user, action="beta.did", obj=theirs)
    return user, mine, theirs


def test_selectors_and_managers_stay_in_the_tenant(tenant, other_tenant):
    user, mine, theirs = _both(tenant, other_tenant)
    assert list(user_organizations(user)) == [mine]
    assert active_organization(user) == mine
    assert list(Notification.objects.values_list("subject", flat=True)) == ["alpha news"]
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["alpha.did"]
    with tenant_context(other_tenant):
        assert list(user_organizations(user)) == [theirs]
        assert list(Organization.objects.filter(pk=mine.pk)) == []


def test_pages_of_each_host_show_only_their_rows(client, tenant, other_tenant):
    user, mine, theirs = _both(tenant, other_tenant)
    client.force_login(user)
    for host, seen, unseen in (("testserver", "alpha", "beta"), ("beta.test", "beta", "alpha")):
        notes = client.get("/notifications/", HTTP_HOST=host).content.decode()
        assert f"{seen} news" in notes
        assert f"{unseen} news" not in notes
        dashboard = client.get("/account/", HTTP_HOST=host).content.decode()
        assert f"{seen.capitalize()} Org" in dashboard
        assert f"{unseen.capitalize()} Org" not in dashboard
    assert client.get(f"/account/organizations/{theirs.pk}/").status_code == 404
    assert client.get(f"/account/organizations/{mine.pk}/", HTTP_HOST="beta.test").status_code == 404


def test_a_notification_of_b_cannot_be_opened_on_a(client, tenant, other_tenant):
    user, _mine, _theirs = _both(tenant, other_tenant)
    with tenant_context(other_tenant):
        beta_note = Notification.objects.get()
    client.force_login(user)
    assert client.post(f"/notifications/{beta_note.pk}/open/").status_code == 404
    beta_note.refresh_from_db()
    assert beta_note.read_at is None


def test_unknown_host_is_404_on_every_path(client, tenant):
    for path in ("/", "/accounts/login/", "/account/", "/admin/", "/no/such/page"):
        response = client.get(path, HTTP_HOST="elsewhere.example")
        assert response.status_code == 404
        assert tenant.name not in response.content.decode()


def test_healthz_answers_on_any_host(client, db):
    response = client.get("/healthz", HTTP_HOST="elsewhere.example")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_healthz_is_503_when_the_database_is_down(client, db, monkeypatch):
    from marketplace import views

    monkeypatch.setattr(views, "_check_database", lambda: ("down", "connection refused"))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "down"


def test_404_page_is_branded_and_translated(client, tenant):
    response = client.get("/no/such/page/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    page = response.content.decode()
    assert tenant.name_en in page
    assert "Page not found" in page


def test_portfolio_alert_reads_stay_in_their_exchange(client, tenant, other_tenant):
    """Marking a right alert read (one, all) on one exchange neither reaches nor reads the other's."""
    from rights.alerts import member_alerts
    from rights.models import Alert, AlertRead
    from rights.services import holding_ensure
    from tests.factories.listings import register_record

    def alert(org):
        holding = holding_ensure(organization=org, record=register_record(owner_name=org.legal_name))
        return Alert.objects.create(organization=org, holding=holding, record=holding.record, kind="lapse", key="k",
                                    message="lapsed")

    user, mine, theirs = _both(tenant, other_tenant)
    alpha_alert = alert(mine)
    with tenant_context(other_tenant):
        beta_alert = alert(theirs)
    client.force_login(user)
    assert client.post(f"/portfolio/alerts/{beta_alert.pk}/read/").status_code == 404
    assert client.post(f"/portfolio/alerts/{alpha_alert.pk}/read/", HTTP_HOST="beta.test").status_code == 404
    client.post("/portfolio/alerts/read/", HTTP_HOST="beta.test")
    assert member_alerts(user=user, organization=mine)[1] == 1  # beta's "all read" leaves alpha's alert new
    assert not AlertRead.objects.exists()
    with tenant_context(other_tenant):
        assert member_alerts(user=user, organization=theirs)[1] == 0
