"""Routes of the partner REST API (/api/v1/), its schema (/api/schema/) and docs (/api/docs/).

Views live in each app's `api/` package (one view per use case) on top of `core.api.base`.
"""

from django.urls import include, path, re_path, register_converter
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from accounts.api import views as account_views
from core.api.converters import IdConverter, ReferenceConverter
from core.api.fallback import api_not_found
from demand.api import views as demand_views
from escrow.api import views as order_views
from financing.api import views as financing_views
from listings.api import bulk as listing_bulk
from listings.api import market as listing_views
from listings.api import seller as seller_views
from negotiation.api import deals as deal_views
from negotiation.api import mandates as mandate_views
from negotiation.api import views as offer_views
from partners.api import views as partner_views
from transfers.api import views as transfer_views

register_converter(IdConverter, "id")
register_converter(ReferenceConverter, "ref")

v1 = [
    path("me", partner_views.MeApi.as_view(), name="me"),
    path("organization", account_views.OrganizationApi.as_view(), name="organization"),
    # register and market
    path("register/lookup", listing_views.RegisterLookupApi.as_view(), name="register-lookup"),
    path("listings", listing_views.ListingSearchApi.as_view(), name="listings"),
    path("listings/<id:pk>", listing_views.ListingDetailApi.as_view(), name="listing"),
    # the organization's own listings
    path("seller/listings", seller_views.SellerListingListCreateApi.as_view(), name="seller-listings"),
    path("seller/listings/import", listing_bulk.BulkImportApi.as_view(), name="seller-listings-import"),
    path("seller/listings/<id:pk>", seller_views.SellerListingDetailApi.as_view(), name="seller-listing"),
    path("seller/listings/<id:pk>/submit", seller_views.SellerListingSubmitApi.as_view(),
         name="seller-listing-submit"),
    path("seller/listings/<id:pk>/withdraw", seller_views.SellerListingWithdrawApi.as_view(),
         name="seller-listing-withdraw"),
    path("seller/listings/<id:pk>/pay-margin", order_views.SellerListingPayMarginApi.as_view(),
         name="seller-listing-pay-margin"),
    # demand: wants and auctions
    path("wants", demand_views.WantListCreateApi.as_view(), name="wants"),
    path("wants/<id:pk>", demand_views.WantDetailApi.as_view(), name="want"),
    path("auctions/<id:pk>", demand_views.AuctionDetailApi.as_view(), name="auction"),
    path("auctions/<id:pk>/bids", demand_views.AuctionBidApi.as_view(), name="auction-bids"),
    path("auctions/<id:pk>/counter-offer", demand_views.AuctionCounterOfferApi.as_view(), name="auction-counter-offer"),
    path("auctions/<id:pk>/counter-offer/answer", demand_views.AuctionCounterOfferAnswerApi.as_view(),
         name="auction-counter-offer-answer"),
    # orders
    path("orders", order_views.OrderListCreateApi.as_view(), name="orders"),
    path("orders/<ref:reference>", order_views.OrderDetailApi.as_view(), name="order"),
    path("orders/<ref:reference>/confirm", order_views.OrderConfirmApi.as_view(), name="order-confirm"),
    path("orders/<ref:reference>/decline", order_views.OrderDeclineApi.as_view(), name="order-decline"),
    path("orders/<ref:reference>/cancel", order_views.OrderCancelApi.as_view(), name="order-cancel"),
    path("orders/<ref:reference>/pay", order_views.OrderPayApi.as_view(), name="order-pay"),
    path("orders/<ref:reference>/confirm-certificate", order_views.OrderConfirmCertificateApi.as_view(),
         name="order-confirm-certificate"),
    path("orders/<ref:reference>/dispute", order_views.OrderDisputeApi.as_view(), name="order-dispute"),
    # negotiated deals
    path("offers", offer_views.OfferListCreateApi.as_view(), name="offers"),
    path("offers/<id:pk>", offer_views.OfferDetailApi.as_view(), name="offer"),
    path("offers/<id:pk>/counter", offer_views.OfferCounterApi.as_view(), name="offer-counter"),
    path("offers/<id:pk>/accept", offer_views.OfferAcceptApi.as_view(), name="offer-accept"),
    path("offers/<id:pk>/reject", offer_views.OfferRejectApi.as_view(), name="offer-reject"),
    path("offers/<id:pk>/withdraw", offer_views.OfferWithdrawApi.as_view(), name="offer-withdraw"),
    path("mandates", mandate_views.MandateListCreateApi.as_view(), name="mandates"),
    path("mandates/<id:pk>", mandate_views.MandateDetailApi.as_view(), name="mandate"),
    path("mandates/<id:pk>/accept", mandate_views.MandateAcceptApi.as_view(), name="mandate-accept"),
    path("mandates/<id:pk>/decline", mandate_views.MandateDeclineApi.as_view(), name="mandate-decline"),
    path("mandates/<id:pk>/revoke", mandate_views.MandateRevokeApi.as_view(), name="mandate-revoke"),
    path("listings/<id:pk>/questions", deal_views.ListingQuestionsApi.as_view(), name="listing-questions"),
    path("questions/<id:pk>/answer", deal_views.QuestionAnswerApi.as_view(), name="question-answer"),
    path("listings/<id:pk>/dataroom", deal_views.DataRoomApi.as_view(), name="listing-dataroom"),
    path("listings/<id:pk>/dataroom/nda", deal_views.NdaAcceptApi.as_view(), name="listing-dataroom-nda"),
    path("listings/<id:pk>/dataroom/log", deal_views.DataRoomLogApi.as_view(), name="listing-dataroom-log"),
    path("dataroom/documents/<id:pk>/file", deal_views.DataRoomDocumentFileApi.as_view(), name="dataroom-document-file"),
    path("conversations", deal_views.ConversationListCreateApi.as_view(), name="conversations"),
    path("conversations/<id:pk>", deal_views.ConversationDetailApi.as_view(), name="conversation"),
    path("conversations/<id:pk>/messages", deal_views.ConversationMessageApi.as_view(), name="conversation-messages"),
    path("messages/<id:pk>/attachment", deal_views.MessageAttachmentApi.as_view(), name="message-attachment"),
    # transfer papers
    path("orders/<ref:reference>/documents", transfer_views.OrderDocumentListApi.as_view(), name="order-documents"),
    path("orders/<ref:reference>/documents/<id:pk>/file", transfer_views.OrderDocumentFileApi.as_view(),
         name="order-document-file"),
    path("orders/<ref:reference>/documents/sign-all", transfer_views.OrderDocumentsSignAllApi.as_view(),
         name="order-documents-sign-all"),
    path("orders/<ref:reference>/documents/<id:pk>/sign", transfer_views.OrderDocumentSignApi.as_view(),
         name="order-document-sign"),
    path("orders/<ref:reference>/export-certificate", transfer_views.OrderExportCertificateApi.as_view(),
         name="order-export-certificate"),
    # valuation and financing
    path("valuation", financing_views.RightValuationApi.as_view(), name="valuation"),
    path("listings/<id:pk>/valuation", financing_views.ListingValuationApi.as_view(), name="listing-valuation"),
    path("financing/applications", financing_views.ApplicationListCreateApi.as_view(), name="financing-applications"),
    path("financing/applications/<ref:reference>", financing_views.ApplicationDetailApi.as_view(),
         name="financing-application"),
    path("financing/applications/<ref:reference>/withdraw", financing_views.ApplicationWithdrawApi.as_view(),
         name="financing-application-withdraw"),
    path("financing/applications/<ref:reference>/offers", financing_views.OfferCreateApi.as_view(),
         name="financing-offers"),
    path("financing/applications/<ref:reference>/offers/<id:pk>/accept", financing_views.OfferAcceptApi.as_view(),
         name="financing-offer-accept"),
    path("financing/applications/<ref:reference>/contract", financing_views.ContractFileApi.as_view(),
         name="financing-contract"),
    path("financing/applications/<ref:reference>/contract/sign", financing_views.ContractSignApi.as_view(),
         name="financing-contract-sign"),
    path("financing/applications/<ref:reference>/release-agreement", financing_views.ReleaseAgreementFileApi.as_view(),
         name="financing-release-agreement"),
    path("financing/applications/<ref:reference>/release-agreement/sign",
         financing_views.ReleaseAgreementSignApi.as_view(), name="financing-release-agreement-sign"),
    path("financing/applications/<ref:reference>/disbursement", financing_views.DisbursementApi.as_view(),
         name="financing-disbursement"),
    path("financing/applications/<ref:reference>/service-fee/pay", financing_views.ServiceFeePayApi.as_view(),
         name="financing-service-fee-pay"),
    path("financing/applications/<ref:reference>/repayment", financing_views.RepaymentApi.as_view(),
         name="financing-repayment"),
    path("financing/appraisals", financing_views.AppraisalListCreateApi.as_view(), name="financing-appraisals"),
    path("financing/appraisals/<ref:reference>", financing_views.AppraisalDetailApi.as_view(),
         name="financing-appraisal"),
    path("financing/appraisals/<ref:reference>/pay", financing_views.AppraisalPayApi.as_view(),
         name="financing-appraisal-pay"),
    path("financing/appraisals/<ref:reference>/report", financing_views.AppraisalReportApi.as_view(),
         name="financing-appraisal-report"),
    path("financing/appraisals/<ref:reference>/accept", financing_views.AppraisalAcceptApi.as_view(),
         name="financing-appraisal-accept"),
    path("financing/appraisals/<ref:reference>/cancel", financing_views.AppraisalCancelApi.as_view(),
         name="financing-appraisal-cancel"),
    path("financing/appraisals/<ref:reference>/dispute", financing_views.AppraisalDisputeApi.as_view(),
         name="financing-appraisal-dispute"),
    path("financing/appraisals/<ref:reference>/dispute/evidence/<id:pk>",
         financing_views.AppraisalEvidenceFileApi.as_view(), name="financing-appraisal-evidence"),
    path("financing/appraisals/<ref:reference>/dispute/answer", financing_views.AppraisalDisputeAnswerApi.as_view(),
         name="financing-appraisal-dispute-answer"),
    # webhooks
    path("webhooks/endpoints", partner_views.WebhookEndpointListCreateApi.as_view(), name="webhook-endpoints"),
    path("webhooks/endpoints/<id:pk>", partner_views.WebhookEndpointDetailApi.as_view(), name="webhook-endpoint"),
    path("webhooks/endpoints/<id:pk>/rotate-secret", partner_views.WebhookEndpointRotateSecretApi.as_view(),
         name="webhook-endpoint-rotate-secret"),
    path("webhooks/endpoints/<id:pk>/deliveries", partner_views.WebhookDeliveryListApi.as_view(),
         name="webhook-deliveries"),
]

urlpatterns = [
    path("v1/", include((v1, "api"), namespace="api")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    re_path(r"^[\s\S]*$", api_not_found),  # any other path under /api/, newlines included
]
