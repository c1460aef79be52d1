"""Output shapes shared by the listings API views."""

from rest_framework import serializers

from listings.models import Jurisdiction, LegalStatus, Listing, RegisterRecord, Right, RightKind


class OrganizationRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="legal_name")


class RegisterRecordSerializer(serializers.ModelSerializer):
    jurisdiction = serializers.ChoiceField(choices=Jurisdiction.choices)
    kind = serializers.ChoiceField(choices=RightKind.choices)
    legal_status = serializers.ChoiceField(choices=LegalStatus.choices)

    class Meta:
        model = RegisterRecord
        fields = ["number", "jurisdiction", "kind", "application_number", "publication_number", "title", "title_en",
                  "abstract", "owner_name", "owner_country", "filing_date", "grant_date", "expiry_date",
                  "legal_status", "renewal_paid_through", "classes", "encumbrances"]


class RightSerializer(serializers.ModelSerializer):
    jurisdiction = serializers.ChoiceField(choices=Jurisdiction.choices)
    kind = serializers.ChoiceField(choices=RightKind.choices)
    legal_status = serializers.ChoiceField(choices=LegalStatus.choices)

    class Meta:
        model = Right
        fields = ["number", "jurisdiction", "kind", "title", "owner_name", "filing_date", "grant_date", "expiry_date",
                  "legal_status", "classes"]


class ListingSummarySerializer(serializers.ModelSerializer):
    seller = OrganizationRefSerializer(source="seller_org")
    state = serializers.ChoiceField(choices=Listing.State.choices)
    deal_type = serializers.ChoiceField(choices=Listing.DealType.choices)
    kind = serializers.CharField(help_text="Kind of the first right (invention, utility_model, design, trademark)")
    jurisdiction = serializers.CharField()

    class Meta:
        model = Listing
        fields = ["id", "title", "state", "price_minor", "currency", "deal_type", "kind", "jurisdiction",
                  "owner_name", "expiry_date", "rights_count", "industry_tags", "seller", "published_at"]


class ListingDetailSerializer(ListingSummarySerializer):
    rights = RightSerializer(many=True)
    licence_term_months = serializers.IntegerField(allow_null=True)

    class Meta(ListingSummarySerializer.Meta):
        fields = [*ListingSummarySerializer.Meta.fields, "description", "licence_term_months", "licence_territory",
                  "rights", "created_at", "updated_at"]


class OwnListingSerializer(ListingDetailSerializer):
    """The seller's own view: adds what only the seller sees."""

    class Meta(ListingDetailSerializer.Meta):
        fields = [*ListingDetailSerializer.Meta.fields, "rejection_reason", "margin_minor", "submitted_at"]
