"""Issue 10: login throttling that strangers cannot turn against users.

Failures count per (client IP, account): the guesser is slowed, the owner logs in from their own
address, people behind the same address are unaffected, the client IP comes through the trusted proxy
count only, and the admin login is throttled the same way and answers one message for a wrong password
and for the right password of an account that is not staff."""

import pytest
from django.test import Client

from accounts.models import Role
from tests.factories import PASSWORD, make_member

pytestmark = pytest.mark.django_db

WRONG = "wrong-password-123"


def _site_login(client, user, password, **extra):
    return client.post("/accounts/login/", {"login": user.email, "password": password}, **extra)


def _admin_login(client, user, password, **extra):
    return client.post("/admin/login/", {"username": user.email, "password": password, "next": "/admin/"}, **extra)


def test_a_stranger_cannot_lock_the_owner_out(tenant):
    owner = make_member()
    stranger = Client(REMOTE_ADDR="198.51.100.66")
    for _ in range(12):
        assert _site_login(stranger, owner, WRONG).status_code in (200, 429)
    # the guesser is slowed down, even with the right password now
    assert _site_login(stranger, owner, PASSWORD).status_code == 429
    # the owner, from their own address, logs in
    assert _site_login(Client(REMOTE_ADDR="203.0.113.5"), owner, PASSWORD).status_code == 302


def test_one_address_failing_on_many_accounts_does_not_lock_out_everyone_behind_it(tenant):
    shared = "192.0.2.10"
    guesser = Client(REMOTE_ADDR=shared)
    for victim in [make_member() for _ in range(12)]:
        _site_login(guesser, victim, WRONG)
    colleague = make_member()
    assert _site_login(Client(REMOTE_ADDR=shared), colleague, PASSWORD).status_code == 302


def test_behind_the_trusted_proxy_each_client_is_counted_by_its_own_address(tenant, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    owner = make_member()
    proxy = "10.0.0.1"
    stranger = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="198.51.100.66")
    for _ in range(8):
        _site_login(stranger, owner, WRONG)
    assert _site_login(stranger, owner, PASSWORD).status_code == 429
    # the owner comes through the same proxy from another address
    assert _site_login(Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="203.0.113.5"), owner,
                       PASSWORD).status_code == 302
    # and a spoofed X-Forwarded-For chain does not help the stranger: the proxy appends the real address
    spoof = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="203.0.113.5, 198.51.100.66")
    assert _site_login(spoof, owner, PASSWORD).status_code == 429


def test_the_admin_login_is_throttled(tenant):
    staff = make_member(roles=(Role.ESCROW_OFFICER,), org=False)
    guesser = Client(REMOTE_ADDR="198.51.100.77")
    for _ in range(8):
        _admin_login(guesser, staff, WRONG)
    assert _admin_login(guesser, staff, PASSWORD).status_code == 429
    assert _admin_login(Client(REMOTE_ADDR="203.0.113.9"), staff, PASSWORD).status_code == 302


def test_the_admin_login_says_the_same_for_a_wrong_password_and_a_non_staff_account(tenant):
    buyer = make_member()
    wrong = _admin_login(Client(REMOTE_ADDR="198.51.100.1"), buyer, WRONG)
    right = _admin_login(Client(REMOTE_ADDR="198.51.100.2"), buyer, PASSWORD)
    assert wrong.status_code == right.status_code == 200

    def errors(response):
        return [str(e) for e in response.context["form"].non_field_errors()]

    assert errors(wrong) == errors(right)
