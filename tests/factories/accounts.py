import factory
from allauth.account.models import EmailAddress

from accounts.models import Membership, Organization, Role, TenantRole, User
from core.models import Tenant

__all__ = ["TenantFactory", "UserFactory", "OrganizationFactory", "MembershipFactory", "TenantRoleFactory",
           "make_member", "PASSWORD"]

PASSWORD = "test-pass-123"


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant
        django_get_or_create = ("slug",)
        skip_postgeneration_save = True

    slug = factory.Sequence(lambda n: f"ex{n}")
    name = factory.Sequence(lambda n: f"交易所 {n}")
    name_en = factory.Sequence(lambda n: f"Exchange {n}")
    hosts = factory.LazyAttribute(lambda o: [f"{o.slug}.test"])
    currency = "CNY"
    languages = ["zh-hans", "en"]

    @factory.post_generation
    def escrow_bank_account(obj, create, extracted, **kwargs):
        """Every test exchange takes bank transfers in its currency (pass escrow_bank_account=False not to)."""
        if create and extracted is not False:
            from escrow.models import EscrowBankAccount

            EscrowBankAccount.objects.unscoped().get_or_create(
                tenant=obj, currency=obj.currency, is_active=True,
                defaults={"bank": "Bank of China, Haidian Branch", "account_name": f"{obj.name_en} escrow",
                          "account_number": "3301 0000 4488 1207 66", "swift": "BKCHCNBJ110"})


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Faker("name")
    language = "en"
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def verified_email(obj, create, extracted, **kwargs):
        if create:
            obj.save()
            EmailAddress.objects.get_or_create(user=obj, email=obj.email, defaults={"verified": True, "primary": True})


class OrganizationFactory(factory.django.DjangoModelFactory):
    """Needs a tenant in context (or pass tenant=)."""

    class Meta:
        model = Organization

    kind = Organization.Kind.COMPANY
    legal_name = factory.Sequence(lambda n: f"Acme Technology {n} Co., Ltd.")
    country = "CN"
    verification_status = Organization.Verification.VERIFIED


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    is_admin = True
    is_default = True


class TenantRoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TenantRole

    user = factory.SubFactory(UserFactory)
    role = Role.BUYER


def make_member(*, roles=(Role.BUYER,), org=None, **user_kwargs):
    """A user of the tenant in context with `roles`, member (default) of `org` (a new verified one if None)."""
    user = UserFactory(**user_kwargs)
    for role in roles:
        TenantRoleFactory(user=user, role=role)
    if org is not False:
        MembershipFactory(user=user, organization=org or OrganizationFactory())
    return user
