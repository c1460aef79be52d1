from rest_framework import serializers

from core.api.sections import section_fields
from escrow.models import Disbursement, Order, OrderState, Payment


class OrgRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="legal_name")


class ListingRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()


class MoneySerializer(serializers.Serializer):
    currency = serializers.CharField()
    price_minor = serializers.IntegerField()
    buyer_fee_minor = serializers.IntegerField()
    seller_commission_minor = serializers.IntegerField()
    broker_commission_minor = serializers.IntegerField(help_text="The seller's broker's commission (out of the "
                                                                 "seller's share), 0 without one")
    buyer_broker_commission_minor = serializers.IntegerField(help_text="The buyer's broker's commission (paid by "
                                                                       "the buyer on top), 0 without one")
    total_minor = serializers.IntegerField(help_text="What the buyer pays: price + buyer fee + its broker's "
                                                     "commission")
    payout_minor = serializers.IntegerField(help_text="What the seller receives: price - commission - its "
                                                      "broker's commission")


class OrderSummarySerializer(serializers.ModelSerializer):
    state = serializers.ChoiceField(choices=OrderState.choices)
    role = serializers.SerializerMethodField()
    listing = ListingRefSerializer()
    buyer = OrgRefSerializer(source="buyer_org")
    seller = OrgRefSerializer(source="seller_org")
    money = MoneySerializer(source="*")

    class Meta:
        model = Order
        fields = ["reference", "state", "role", "listing", "buyer", "seller", "money", "placed_at", "updated_at"]

    def get_role(self, order) -> str:
        org = self.context.get("organization")
        return "buyer" if org is not None and order.buyer_org_id == org.pk else "seller"


class TimelineStepSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    status = serializers.ChoiceField(choices=["done", "current", "next", "stopped"])
    at = serializers.DateTimeField(allow_null=True)
    due = serializers.DateTimeField(allow_null=True)
    overdue = serializers.BooleanField()


class StatementSerializer(serializers.Serializer):
    currency = serializers.CharField()
    paid = serializers.IntegerField(help_text="Paid into escrow by the buyer (minor units)")
    held = serializers.IntegerField(help_text="Held in escrow now")
    fees = serializers.IntegerField(help_text="Platform fees taken on release")
    paid_out = serializers.IntegerField(help_text="Released to the seller")
    refunded = serializers.IntegerField()
    forfeited_margin = serializers.IntegerField()


class PaymentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Payment
        fields = ["reference", "provider", "state", "amount_minor", "currency", "created_at", "received_at"]


class DisbursementSerializer(serializers.ModelSerializer):
    class Meta:
        model = Disbursement
        fields = ["kind", "state", "amount_minor", "currency", "created_at", "paid_at"]


class DeadlinesSerializer(serializers.Serializer):
    seller_confirm_due = serializers.DateTimeField(allow_null=True)
    payment_due = serializers.DateTimeField(allow_null=True)
    filing_due = serializers.DateTimeField(allow_null=True)
    inspection_due = serializers.DateTimeField(allow_null=True)


class OrderDetailSerializer(serializers.Serializer):
    reference = serializers.CharField(source="order.reference")
    state = serializers.ChoiceField(source="order.state", choices=OrderState.choices)
    role = serializers.ChoiceField(choices=["buyer", "seller"])
    next_action = serializers.CharField(allow_blank=True,
                                        help_text="What you can do now: confirm, pay, certificate; empty: wait")
    waiting_for = serializers.CharField(allow_blank=True)
    listing = ListingRefSerializer(source="order.listing")
    buyer = OrgRefSerializer(source="order.buyer_org")
    seller = OrgRefSerializer(source="order.seller_org")
    deal_type = serializers.CharField(source="order.deal_type")
    money = MoneySerializer(source="order")
    statement = StatementSerializer()
    deadlines = DeadlinesSerializer(source="order")
    timeline = TimelineStepSerializer(many=True)
    payments = PaymentSerializer(source="order.payments.all", many=True)
    disbursements = DisbursementSerializer(source="order.disbursements.all", many=True)
    placed_at = serializers.DateTimeField(source="order.placed_at")
    close_reason = serializers.CharField(source="order.close_reason")

    def get_fields(self):
        """Plus the parts higher apps add to an order (the transfer, from transfers)."""
        return {**super().get_fields(), **section_fields("order")}
