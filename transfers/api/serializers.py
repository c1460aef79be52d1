"""The transfer part of an order in the partner API (papers, signatures, filing, office notices)."""

from rest_framework import serializers


class SignatureStatusSerializer(serializers.Serializer):
    party = serializers.CharField()
    typed_name = serializers.CharField()
    signed_at = serializers.DateTimeField()


class DocumentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    direction = serializers.ChoiceField(choices=["forward", "back"],
                                        help_text="forward: the transfer to the buyer; back: the assignment back "
                                                  "to the seller after a refund of a recorded transfer")
    label = serializers.CharField()
    version = serializers.IntegerField()
    sha256 = serializers.CharField()
    needs_signatures = serializers.BooleanField()
    signatures = SignatureStatusSerializer(many=True)
    download_url = serializers.CharField()
    created_at = serializers.DateTimeField()


class NoticeSerializer(serializers.Serializer):
    kind = serializers.CharField()
    number = serializers.CharField()
    text = serializers.CharField()
    received_at = serializers.DateTimeField()
    document_id = serializers.IntegerField(allow_null=True)


class ReturnFilingSerializer(serializers.Serializer):
    office = serializers.CharField()
    status = serializers.CharField()
    attempt = serializers.IntegerField()
    office_reference = serializers.CharField(allow_blank=True)
    filed_at = serializers.DateTimeField(allow_null=True)
    notice_number = serializers.CharField(allow_blank=True)
    notice_received_at = serializers.DateTimeField(allow_null=True)
    rejection_reason = serializers.CharField(allow_blank=True)
    correction_text = serializers.CharField(allow_blank=True)


class TransferBackSerializer(serializers.Serializer):
    filings = ReturnFilingSerializer(many=True, help_text="The latest attempt of each office's transfer back")
    documents = DocumentSerializer(many=True, help_text="The assignment back both parties sign")
    signatures_missing = serializers.DictField(child=serializers.ListField(child=serializers.IntegerField()),
                                               help_text="Document ids each party has yet to sign")
    sign_due = serializers.DateTimeField(allow_null=True,
                                         help_text="Both parties sign the assignment back by then; escrow staff "
                                                   "are told when it passes")


class TransferSerializer(serializers.Serializer):
    status = serializers.CharField(allow_blank=True, help_text="Filing status, empty before the papers exist")
    office = serializers.CharField(allow_blank=True)
    office_reference = serializers.CharField(allow_blank=True)
    filed_at = serializers.DateTimeField(allow_null=True)
    notice_number = serializers.CharField(allow_blank=True)
    notice_received_at = serializers.DateTimeField(allow_null=True)
    rejection_reason = serializers.CharField(allow_blank=True)
    correction_text = serializers.CharField(allow_blank=True)
    documents = DocumentSerializer(many=True)
    notices = NoticeSerializer(many=True)
    signatures_missing = serializers.DictField(child=serializers.ListField(child=serializers.IntegerField()),
                                               help_text="Document ids each party has yet to sign")
    transfer_back = TransferBackSerializer(allow_null=True,
                                           help_text="The transfer back to the seller after a refund of a recorded "
                                                     "transfer; null when there is none")
