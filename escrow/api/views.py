"""Orders in the partner API: place as buyer, list and read the organization's orders (timeline,
money statement, transfer status) and take the party's action at each step. Views only parse,
call escrow services / selectors and serialise."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import parsers, serializers, status
from rest_framework.response import Response

from core.api import messages as M
from core.api.base import PartnerAPIView
from core.api.pagination import paginated
from core.api.parsers import SafeJSONParser
from core.api.sections import section_data
from core.errors import ValidationFailed
from core.money import format_money
from escrow import ledger, selectors, services
from escrow.models import Disbursement, OrderState
from escrow.payments import available_providers, get_provider
from escrow.payments.bank_transfer import bank_details
from listings.models import Listing
from listings.selectors import listing_for_viewer
from partners.models import Scope

from .serializers import OrderDetailSerializer, OrderSummarySerializer, PaymentSerializer

ORDERS = ["orders"]


def order_for_key(view, reference):
    """The order if the key's organization is its buyer or seller; 404 otherwise (existence is private)."""
    order, role = selectors.order_for_viewer(view.actor, reference)
    if role not in ("buyer", "seller"):
        raise Http404
    return order, role


def order_detail_data(view, order, role) -> dict:
    payout = order.disbursements.filter(kind=Disbursement.Kind.PAYOUT).first()
    statement = ledger.order_statement(order)
    statement.pop("entries", None)
    action = selectors.viewer_action(order, role)
    return OrderDetailSerializer({
        "order": order, "role": role, "timeline": selectors.timeline(order, payout),
        "statement": statement, "next_action": (action or {}).get("kind", ""),
        "waiting_for": str(selectors.waiting_for(order, role) or ""),
        **section_data("order", order),
    }).data


class OrderListCreateApi(PartnerAPIView):
    write_scope = Scope.ORDERS

    class FilterSerializer(serializers.Serializer):
        role = serializers.ChoiceField(choices=["buyer", "seller"], required=False,
                                       help_text="Only orders where your organization is the buyer / the seller")
        state = serializers.ChoiceField(choices=OrderState.choices, required=False)

    class InputSerializer(serializers.Serializer):
        listing_id = serializers.IntegerField(min_value=1, max_value=999999999999999999)
        terms_accepted = serializers.BooleanField(help_text="The buyer accepts the exchange's contract terms")

    @extend_schema(operation_id="orders_list", tags=ORDERS, parameters=[FilterSerializer],
                   responses=paginated(OrderSummarySerializer), summary="Your organization's orders, newest first")
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        queryset = selectors.orders_for_user(self.actor)
        role = filters.validated_data.get("role")
        if role == "buyer":
            queryset = queryset.filter(buyer_org=self.organization)
        elif role == "seller":
            queryset = queryset.filter(seller_org=self.organization)
        if filters.validated_data.get("state"):
            queryset = queryset.filter(state=filters.validated_data["state"])
        return self.paginate(queryset, OrderSummarySerializer, ordering=("-placed_at", "-id"),
                             context={"organization": self.organization})

    @extend_schema(operation_id="orders_create", tags=ORDERS, request=InputSerializer,
                   responses={201: OrderDetailSerializer}, summary="Place an order as buyer (escrowed)",
                   examples=[OpenApiExample("Order a listing", request_only=True,
                                            value={"listing_id": 42, "terms_accepted": True})])
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # 404 for listings this organization cannot see (another's drafts): their ids stay private
        listing = listing_for_viewer(pk=data.validated_data["listing_id"], user=self.actor)
        order = services.order_place(listing=listing, buyer=self.actor,
                                     terms_accepted=data.validated_data["terms_accepted"])
        order, role = order_for_key(self, order.reference)
        return Response(order_detail_data(self, order, role), status=status.HTTP_201_CREATED,
                        headers={"Location": f"/api/v1/orders/{order.reference}"})


class OrderDetailApi(PartnerAPIView):
    @extend_schema(operation_id="orders_retrieve", tags=ORDERS, responses=OrderDetailSerializer,
                   summary="An order: state, your role, timeline, money, transfer status, your next action")
    def get(self, request, reference):
        order, role = order_for_key(self, reference)
        return Response(order_detail_data(self, order, role))


class _OrderActionApi(PartnerAPIView):
    write_scope = Scope.ORDERS

    def act(self, order, role, data):  # pragma: no cover - overridden
        raise NotImplementedError

    def post(self, request, reference):
        order, role = order_for_key(self, reference)
        data = {}
        if getattr(self, "InputSerializer", None) is not None:
            serializer = self.InputSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
        self.act(order, role, data)
        order, role = order_for_key(self, reference)
        return Response(order_detail_data(self, order, role))


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class OrderConfirmApi(_OrderActionApi):
    InputSerializer = None

    @extend_schema(operation_id="orders_confirm", tags=ORDERS, request=None, responses=OrderDetailSerializer,
                   summary="Seller: confirm the order")
    def post(self, request, reference):
        return super().post(request, reference)

    def act(self, order, role, data):
        services.order_seller_confirm(order=order, actor=self.actor)


class OrderDeclineApi(_OrderActionApi):
    InputSerializer = ReasonSerializer

    @extend_schema(operation_id="orders_decline", tags=ORDERS, request=ReasonSerializer,
                   responses=OrderDetailSerializer, summary="Seller: decline the order")
    def post(self, request, reference):
        return super().post(request, reference)

    def act(self, order, role, data):
        services.order_seller_decline(order=order, actor=self.actor, reason=data["reason"])


class OrderCancelApi(_OrderActionApi):
    InputSerializer = ReasonSerializer

    @extend_schema(operation_id="orders_cancel", tags=ORDERS, request=ReasonSerializer,
                   responses=OrderDetailSerializer, summary="Buyer: cancel before paying")
    def post(self, request, reference):
        return super().post(request, reference)

    def act(self, order, role, data):
        services.order_buyer_cancel(order=order, actor=self.actor, reason=data["reason"])


class OrderConfirmCertificateApi(_OrderActionApi):
    """Irreversible: releases the payout. The caller states the amount it expects the seller to receive
    (the order's `payout_minor`); a mismatch is refused with 409 and nothing changes."""

    class InputSerializer(serializers.Serializer):
        expected_amount_minor = serializers.IntegerField(
            min_value=0, help_text="The seller's payout you confirm (the order's payout_minor, minor units)")

    @extend_schema(operation_id="orders_confirm_certificate", tags=ORDERS, request=InputSerializer,
                   responses=OrderDetailSerializer,
                   summary="Buyer: confirm the certificate was received (the seller is paid)")
    def post(self, request, reference):
        return super().post(request, reference)

    def act(self, order, role, data):
        services.order_confirm_certificate(order=order, actor=self.actor,
                                           expected_amount_minor=data["expected_amount_minor"])


class OrderDisputeApi(_OrderActionApi):
    parser_classes = [SafeJSONParser, parsers.MultiPartParser]

    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=5000)
        files = serializers.ListField(child=serializers.FileField(), required=False, max_length=5,
                                      help_text="Evidence (PDF or images), multipart only")

    @extend_schema(operation_id="orders_dispute", tags=ORDERS,
                   request={"application/json": InputSerializer, "multipart/form-data": InputSerializer},
                   responses=OrderDetailSerializer, summary="Buyer or seller: open a dispute after payment")
    def post(self, request, reference):
        return super().post(request, reference)

    def act(self, order, role, data):
        services.order_dispute_open(order=order, actor=self.actor, reason=data["reason"], files=data.get("files", []))


def payment_instructions(payment, tenant) -> tuple[dict | None, str]:
    """(bank transfer instructions, checkout URL) for a pending payment, as the website shows them."""
    if payment.provider == "bank_transfer":
        return {**(bank_details(tenant, payment.currency) or {}), "amount": format_money(payment.amount_minor, payment.currency, symbol=False),
                "amount_minor": str(payment.amount_minor), "currency": payment.currency,
                "reference": payment.reference}, ""
    url = get_provider(payment.provider).checkout_url(payment)
    return None, tenant.absolute_url(url) if url.startswith("/") else url


class PaymentMethodSerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=["bank_transfer", "simulated", "stripe"], default="bank_transfer",
                                     help_text="bank_transfer: instructions to pay the exchange's escrow "
                                               "account; others: a checkout page for a person")


class PaymentStartedSerializer(serializers.Serializer):
    payment = PaymentSerializer()
    instructions = serializers.DictField(
        child=serializers.CharField(), allow_null=True,
        help_text="Bank transfer: account_name, bank, account_number, swift, amount, currency, reference "
                  "(quote it on the transfer)")
    checkout_url = serializers.CharField(allow_blank=True, help_text="Other methods: the page to pay on")


def check_method(tenant, method, currency=None):
    if method not in {p.name for p in available_providers(tenant, currency=currency)}:
        raise ValidationFailed(M.METHOD_NOT_OFFERED, field_errors={"method": [M.NOT_OFFERED]})


class OrderPayApi(PartnerAPIView):
    write_scope = Scope.ORDERS

    @extend_schema(operation_id="orders_pay", tags=ORDERS, request=PaymentMethodSerializer,
                   responses=PaymentStartedSerializer,
                   summary="Buyer: pay a confirmed order (bank transfer instructions by default)")
    def post(self, request, reference):
        order, role = order_for_key(self, reference)
        data = PaymentMethodSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        method = data.validated_data["method"]
        check_method(order.tenant, method, order.currency)
        payment = services.payment_start(order=order, actor=self.actor, provider=method)
        instructions, checkout_url = payment_instructions(payment, order.tenant)
        return Response(PaymentStartedSerializer({"payment": payment, "instructions": instructions,
                                                  "checkout_url": checkout_url}).data)


class SellerListingPayMarginApi(PartnerAPIView):
    """A verified listing waiting for its margin (deposit): start paying it."""

    write_scope = Scope.LISTINGS

    @extend_schema(operation_id="seller_listings_pay_margin", tags=["seller listings"],
                   request=PaymentMethodSerializer, responses=PaymentStartedSerializer,
                   summary="Pay the margin of a verified listing (bank transfer instructions by default)")
    def post(self, request, pk):
        listing = Listing.objects.filter(pk=pk, seller_org=self.organization).first()
        if listing is None:
            raise Http404
        data = PaymentMethodSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        check_method(listing.tenant, data.validated_data["method"])
        payment = services.margin_pay_start(listing=listing, actor=self.actor, provider=data.validated_data["method"])
        instructions, checkout_url = payment_instructions(payment, listing.tenant)
        return Response(PaymentStartedSerializer({"payment": payment, "instructions": instructions,
                                                  "checkout_url": checkout_url}).data)
