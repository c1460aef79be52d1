"""Questions & answers, the data room behind the NDA, and private conversations in the partner API.
Every object is looked up through the listing the key's organization may see (listings' viewer rule) or
the conversations it takes part in; anything else is a 404, as on the website. Views only parse, call
negotiation's services / selectors and serialise."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import parsers, serializers, status
from rest_framework.response import Response

from accounts.models import Membership
from accounts.selectors import acting_member
from core.api.base import PartnerAPIView
from core.api.pagination import paginated
from core.errors import DomainError, ValidationFailed
from core.storage import private_bytes_response
from listings.selectors import listing_for_viewer
from negotiation import conversations, dataroom, selectors, services
from negotiation.models import Conversation, DataRoomDocument, Message, Question
from partners.models import Scope

QUESTIONS = ["questions"]
DATAROOM = ["data room"]
CONVERSATIONS = ["conversations"]


def _listing(view, pk):
    return listing_for_viewer(pk=pk, user=view.actor)


# --- questions & answers --------------------------------------------------------------------------

class ListingQuestionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()
    answer = serializers.CharField()
    visibility = serializers.ChoiceField(choices=Question.Visibility.choices)
    asker = serializers.SerializerMethodField(help_text="The asking organization: shown to the seller's side and "
                                                        "to the asker only (public answers are anonymised)")
    asked_at = serializers.DateTimeField()
    answered_at = serializers.DateTimeField(allow_null=True)

    def get_asker(self, question) -> str | None:
        viewer_orgs = self.context.get("orgs", set())
        if self.context.get("seller_side") or question.asker_org_id in viewer_orgs:
            return question.asker_org.legal_name
        return None


def _question_context(view, listing):
    seller_side, _mandate = services.seller_side_for_listing(view.actor, listing)
    orgs = set(Membership.objects.filter(user=view.actor).values_list("organization_id", flat=True))
    return seller_side, {"seller_side": seller_side, "orgs": orgs}


class ListingQuestionsApi(PartnerAPIView):
    write_scope = Scope.ORDERS

    class InputSerializer(serializers.Serializer):
        text = serializers.CharField(max_length=2000, help_text="The question (the seller may answer it publicly; "
                                                                "your organization is never shown then)")

    @extend_schema(operation_id="listings_questions_list", tags=QUESTIONS, responses=paginated(ListingQuestionSerializer),
                   summary="Questions on a listing: public answers and your own questions (all, for the seller)")
    def get(self, request, pk):
        listing = _listing(self, pk)
        seller_side, context = _question_context(self, listing)
        queryset = selectors.questions_visible(listing, user=self.actor, seller_side=seller_side)
        return self.paginate(queryset, ListingQuestionSerializer, ordering=("-asked_at", "-id"), context=context)

    @extend_schema(operation_id="listings_questions_create", tags=QUESTIONS, request=InputSerializer,
                   responses={201: ListingQuestionSerializer}, summary="Ask the seller a question",
                   examples=[OpenApiExample("Ask", request_only=True,
                                            value={"text": "Is the patent licensed to anyone in Japan?"})])
    def post(self, request, pk):
        listing = _listing(self, pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        question = services.question_ask(listing=listing, actor=self.actor, text=data.validated_data["text"])
        _seller_side, context = _question_context(self, listing)
        return Response(ListingQuestionSerializer(question, context=context).data, status=status.HTTP_201_CREATED)


class QuestionAnswerApi(PartnerAPIView):
    write_scope = Scope.ORDERS

    class InputSerializer(serializers.Serializer):
        answer = serializers.CharField(max_length=2000)
        public = serializers.BooleanField(help_text="true: shown on the listing (the asker anonymised); "
                                                    "false: only the asker's organization reads it")

    @extend_schema(operation_id="questions_answer", tags=QUESTIONS, request=InputSerializer,
                   responses=ListingQuestionSerializer, summary="Answer a question on your listing (seller or its broker)",
                   examples=[OpenApiExample("Answer", request_only=True,
                                            value={"answer": "No licence is in force in Japan.", "public": True})])
    def post(self, request, pk):
        question = Question.objects.select_related("listing__seller_org", "asker_org").filter(pk=pk).first()
        if question is None:
            raise Http404
        seller_side, _mandate = services.seller_side_for_listing(self.actor, question.listing)
        if not seller_side:  # the asker and everyone else: the question is not theirs to answer
            if not Membership.objects.filter(user=self.actor, organization=question.asker_org_id).exists():
                raise Http404
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        question = services.question_answer(question=question, actor=self.actor, answer=data.validated_data["answer"],
                                            public=data.validated_data["public"])
        _s, context = _question_context(self, question.listing)
        return Response(ListingQuestionSerializer(question, context=context).data)


# --- data room --------------------------------------------------------------------------------------

class DataRoomDocumentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    uploaded_at = serializers.DateTimeField()
    download = serializers.SerializerMethodField(help_text="Watermarked copy for the caller (logged)")

    def get_download(self, document) -> str:
        return f"/api/v1/dataroom/documents/{document.pk}/file"


class DataRoomSerializer(serializers.Serializer):
    listing = serializers.IntegerField()
    seller_side = serializers.BooleanField()
    nda_accepted = serializers.BooleanField()
    nda_accepted_at = serializers.DateTimeField(allow_null=True)
    nda_text = serializers.CharField(help_text="The exchange's NDA, accepted for your organization")
    nda_text_sha256 = serializers.CharField()
    document_count = serializers.IntegerField()
    documents = DataRoomDocumentSerializer(many=True, help_text="Empty until your organization accepted the NDA")


def _dataroom_data(view, listing):
    import hashlib

    from accounts.selectors import active_organization

    may_open, seller_side = dataroom.may_open(view.actor, listing)
    nda = None if seller_side else dataroom.nda_of(listing, active_organization(view.actor))
    documents = list(selectors.dataroom_documents(listing))
    text = dataroom.nda_text()
    return {"listing": listing.pk, "seller_side": seller_side, "nda_accepted": nda is not None,
            "nda_accepted_at": nda.accepted_at if nda else None, "nda_text": text,
            "nda_text_sha256": hashlib.sha256(text.encode()).hexdigest(), "document_count": len(documents),
            "documents": documents if may_open else []}


class DataRoomApi(PartnerAPIView):
    @extend_schema(operation_id="listings_dataroom_retrieve", tags=DATAROOM, responses=DataRoomSerializer,
                   summary="A listing's data room: the NDA, whether your organization accepted it, the documents")
    def get(self, request, pk):
        listing = _listing(self, pk)
        return Response(DataRoomSerializer(_dataroom_data(self, listing)).data)


class NdaAcceptApi(PartnerAPIView):
    write_scope = Scope.ORDERS

    class InputSerializer(serializers.Serializer):
        typed_name = serializers.CharField(max_length=150, help_text="The signer's full name, as in their profile")
        signer_email = serializers.EmailField(help_text="The member of your organization who accepts the NDA")
        consent = serializers.BooleanField(help_text="The signer read the NDA and accepts it for your organization")

    @extend_schema(operation_id="listings_dataroom_nda_accept", tags=DATAROOM, request=InputSerializer,
                   responses=DataRoomSerializer, summary="Accept the NDA for your organization (recorded like a "
                                                         "signature); the documents open",
                   examples=[OpenApiExample("Accept", request_only=True, value={
                       "typed_name": "Liu Yang", "signer_email": "liu.yang@example.com", "consent": True})])
    def post(self, request, pk):
        listing = _listing(self, pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        signer = acting_member(organization=self.organization, actor=self.actor, email=data.validated_data["signer_email"])
        dataroom.nda_accept(listing=listing, actor=signer, typed_name=data.validated_data["typed_name"],
                            consent=data.validated_data["consent"], ip_address=request.META.get("REMOTE_ADDR"),
                            user_agent=request.headers.get("User-Agent", ""))
        return Response(DataRoomSerializer(_dataroom_data(self, listing)).data)


class DataRoomViewSerializer(serializers.Serializer):
    document = serializers.CharField(source="document.title")
    document_id = serializers.IntegerField()
    person = serializers.CharField(source="user.full_name")
    organization = serializers.CharField(source="organization.legal_name", default="")
    viewed_at = serializers.DateTimeField()


class DataRoomLogApi(PartnerAPIView):
    @extend_schema(operation_id="listings_dataroom_log", tags=DATAROOM, responses=paginated(DataRoomViewSerializer),
                   summary="Who opened which document, when (the seller's side only)")
    def get(self, request, pk):
        listing = _listing(self, pk)
        seller_side, _mandate = services.seller_side_for_listing(self.actor, listing)
        if not seller_side:
            raise Http404
        return self.paginate(dataroom.views_of(listing), DataRoomViewSerializer, ordering=("-viewed_at", "-id"))


class DataRoomDocumentFileApi(PartnerAPIView):
    @extend_schema(operation_id="dataroom_documents_download", tags=DATAROOM,
                   responses={(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY,
                                                                        description="Watermarked copy (PDF or PNG)")},
                   summary="Download a data-room document: a copy watermarked with the viewer, organization and "
                           "time (logged for the seller). 404 without the NDA")
    def get(self, request, pk):
        document = DataRoomDocument.objects.select_related("listing__seller_org").filter(pk=pk).first()
        if document is None:
            raise Http404
        _listing(self, document.listing_id)  # the listing must be visible to the key too
        try:
            data, content_type, filename = dataroom.document_open(document=document, actor=self.actor,
                                                                  ip_address=request.META.get("REMOTE_ADDR"))
        except DomainError:
            raise Http404 from None
        return private_bytes_response(data, content_type=content_type, filename=filename, as_attachment=True)


# --- private conversations --------------------------------------------------------------------------

class ConversationMessageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    side = serializers.CharField()
    organization = serializers.CharField(source="author_org.legal_name")
    body = serializers.CharField()
    attachment = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_attachment(self, message) -> str | None:
        return f"/api/v1/messages/{message.pk}/attachment" if message.attachment else None


class ConversationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    listing = serializers.SerializerMethodField()
    buyer = serializers.CharField(source="buyer_org.legal_name")
    seller = serializers.CharField(source="listing.seller_org.legal_name")
    created_at = serializers.DateTimeField()
    last_message_at = serializers.DateTimeField(allow_null=True)

    def get_listing(self, conversation) -> dict:
        return {"id": conversation.listing_id, "title": conversation.listing.title}


class ConversationDetailSerializer(ConversationSerializer):
    messages = serializers.SerializerMethodField()

    @extend_schema_field(ConversationMessageSerializer(many=True))
    def get_messages(self, conversation):
        rows = conversation.messages.select_related("author_org").order_by("created_at", "id")
        return ConversationMessageSerializer(rows, many=True).data


def _conversation(view, pk) -> Conversation:
    conversation = selectors.conversations_for_user(view.actor).filter(pk=pk).first()
    if conversation is None:
        raise Http404
    return conversation


class MessageInputSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")
    file = serializers.FileField(required=False, help_text="PDF, PNG or JPEG (checked by content)")


class ConversationListCreateApi(PartnerAPIView):
    write_scope = Scope.ORDERS
    parser_classes = [parsers.JSONParser, parsers.MultiPartParser]

    class InputSerializer(MessageInputSerializer):
        listing_id = serializers.IntegerField(min_value=1, max_value=999999999999999999)

    @extend_schema(operation_id="conversations_list", tags=CONVERSATIONS, responses=paginated(ConversationSerializer),
                   summary="Private conversations of your organization (as buyer, seller, or the seller's broker)")
    def get(self, request):
        return self.paginate(selectors.conversations_for_user(self.actor), ConversationSerializer,
                             ordering=("-created_at", "-id"))

    @extend_schema(operation_id="conversations_create", tags=CONVERSATIONS, request=InputSerializer,
                   responses={201: ConversationDetailSerializer},
                   summary="Write to the seller of a listing privately (opens your organization's conversation)",
                   examples=[OpenApiExample("Write", request_only=True,
                                            value={"listing_id": 42, "body": "Could we see the claim charts?"})])
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        listing = _listing(self, data.validated_data["listing_id"])
        if not data.validated_data.get("body", "").strip() and data.validated_data.get("file") is None:
            raise ValidationFailed("Write a message.", field_errors={"body": ["This field is required."]})
        conversation = conversations.conversation_for(listing=listing, actor=self.actor)
        conversations.message_send(conversation=conversation, actor=self.actor, body=data.validated_data["body"],
                                   file=data.validated_data.get("file"))
        conversation = _conversation(self, conversation.pk)
        return Response(ConversationDetailSerializer(conversation).data, status=status.HTTP_201_CREATED,
                        headers={"Location": f"/api/v1/conversations/{conversation.pk}"})


class ConversationDetailApi(PartnerAPIView):
    @extend_schema(operation_id="conversations_retrieve", tags=CONVERSATIONS, responses=ConversationDetailSerializer,
                   summary="A conversation with its messages, oldest first")
    def get(self, request, pk):
        return Response(ConversationDetailSerializer(_conversation(self, pk)).data)


class ConversationMessageApi(PartnerAPIView):
    write_scope = Scope.ORDERS
    parser_classes = [parsers.JSONParser, parsers.MultiPartParser]

    @extend_schema(operation_id="conversations_messages_create", tags=CONVERSATIONS, request=MessageInputSerializer,
                   responses={201: ConversationMessageSerializer}, summary="Write in a conversation (text and/or one attachment)",
                   examples=[OpenApiExample("Reply", request_only=True, value={"body": "Attached: the claim chart."})])
    def post(self, request, pk):
        conversation = _conversation(self, pk)
        data = MessageInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        message = conversations.message_send(conversation=conversation, actor=self.actor,
                                             body=data.validated_data["body"], file=data.validated_data.get("file"))
        return Response(ConversationMessageSerializer(message).data, status=status.HTTP_201_CREATED)


class MessageAttachmentApi(PartnerAPIView):
    @extend_schema(operation_id="messages_attachment_download", tags=CONVERSATIONS,
                   responses={(200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY,
                                                                                 description="The attachment")},
                   summary="Download a message's attachment")
    def get(self, request, pk):
        from core.storage import private_file_response

        message = Message.objects.filter(pk=pk).first()
        if message is None or not message.attachment:
            raise Http404
        _conversation(self, message.conversation_id)
        return private_file_response(message.attachment, content_type=message.attachment_type, as_attachment=True,
                                     filename=message.attachment.name.rsplit("/", 1)[-1], redirect=False)
