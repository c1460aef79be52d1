"""Demo transfers: the zgc demo order whose payment is held gets its papers, signed by the seller, so
the demo buyer finds their signature awaited. Idempotent (papers once, a signature once per side)."""

from accounts.models import User
from core.tenancy import tenant_context
from escrow.models import Order, OrderState

from .models import SIGNED_KINDS, TransferDocument
from .services import document_sign, transfer_prepare

SELLER = "seller@zgc.ipex.local"


def seed(tenants):
    tenant = tenants.get("zgc")
    seller = User.objects.filter(email=SELLER).first()
    if tenant is None or seller is None:
        return
    with tenant_context(tenant):
        for order in Order.objects.filter(state=OrderState.FUNDED, seller_org__memberships__user=seller).order_by("pk"):
            transfer_prepare(order=order)
            for document in TransferDocument.objects.filter(order=order, superseded=False, kind__in=SIGNED_KINDS):
                document_sign(document=document, user=seller, typed_name=seller.full_name or "陈静", consent=True,
                              ip_address="127.0.0.1")
