"""Transfer services: every write of the transfers app (papers, signatures, filing, office answers,
polling, deadlines). Money/state services own their transaction (`durable=True`)."""

from .deadlines import trade_deadlines_enforce
from .filing import (
    apply_answer,
    transfer_file,
    transfer_record_notice,
    transfer_record_reference,
    transfer_refile,
    transfer_refund,
    transfer_submit_correction,
)
from .papers import (
    document_sign,
    documents_sign_all,
    export_certificate_upload,
    generate_cover,
    transfer_papers_retry,
    transfer_prepare,
    transfer_prepare_or_record,
)
from .polling import PollStats, transfer_poll_due
from .recordals import (
    apply_recordal_answer,
    recordal_create,
    recordal_file_locked,
    recordal_office,
    recordal_poll_due,
    recordal_record_notice,
    recordal_record_reference,
)
from .returns import transfer_back_file

__all__ = [
    "transfer_prepare", "transfer_prepare_or_record", "transfer_papers_retry", "document_sign", "documents_sign_all", "export_certificate_upload", "generate_cover",
    "transfer_file", "transfer_record_reference", "transfer_record_notice", "transfer_submit_correction",
    "transfer_refile", "transfer_refund", "apply_answer", "transfer_back_file",
    "transfer_poll_due", "PollStats", "trade_deadlines_enforce",
    "recordal_create", "recordal_file_locked", "recordal_office", "recordal_poll_due", "recordal_record_notice",
    "recordal_record_reference", "apply_recordal_answer",
]
