"""Financing services: every write of the financing app (pledge loans, appraisals)."""

from .appraisals import (
    appraisal_accept,
    appraisal_answer_overdue_alert,
    appraisal_cancel,
    appraisal_deliver,
    appraisal_dispute_answer,
    appraisal_dispute_open,
    appraisal_dispute_settle,
    appraisal_fee_held,
    appraisal_order,
    appraisal_pay_start,
    appraisal_release_if_due,
    settlement_summary,
)
from .loan_fees import service_fee_pay_start, service_fee_record_paid
from .pledges import (
    application_apply_recordal,
    application_create,
    application_expire_if_due,
    application_withdraw,
    contract_sign,
    loan_confirm_disbursement,
    loan_confirm_repayment,
    offer_accept,
    offer_expire_if_due,
    offer_make,
    party_for,
    pledge_file,
    pledge_problems,
    release_file,
)

__all__ = [
    "application_create", "application_withdraw", "offer_make", "offer_accept", "contract_sign", "party_for",
    "pledge_file", "release_file", "application_apply_recordal", "loan_confirm_disbursement",
    "loan_confirm_repayment", "pledge_problems", "appraisal_order", "appraisal_pay_start", "appraisal_fee_held", "appraisal_deliver",
    "appraisal_accept", "appraisal_cancel", "appraisal_release_if_due", "appraisal_dispute_open",
    "appraisal_dispute_answer", "appraisal_dispute_settle", "settlement_summary", "offer_expire_if_due",
    "application_expire_if_due", "service_fee_pay_start", "service_fee_record_paid",
    "appraisal_answer_overdue_alert",
]
