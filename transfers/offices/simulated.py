"""The embedded office (DESIGN section 4): accepts a filing, returns a reference, and answers later —
approval with a notice, rejection, or a request for correction — after a delay typical of the office
scaled by `SIMULATION_TIME_SCALE`. Its register is `SimulatedOfficeCase`, so it behaves like an
outside system: the platform only learns the outcome by asking (the poller).

Outcome: the filing's `simulated_outcome`, else `settings.TRANSFER_SIMULATED_OUTCOME` ("approve").
Latency: `SIMULATED_OFFICE_LATENCY` seconds per status round trip (setting or environment; default 0),
like a slow public register.
"""

from __future__ import annotations

import os
import secrets
import time
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from transfers.models import SimulatedOfficeCase

from . import PROFILES, scale
from .base import OfficeAnswer, OfficeGateway, SubmitResult

REJECTION_TEXT = {
    "cnipa_patent": "经审查，转让合同中专利号与著录项目不一致，不予办理著录项目变更。"
                    " The patent number in the contract does not match the bibliographic data; the change is refused.",
    "default": "The assignment document does not identify the conveyed property; the recordation is refused.",
}
CORRECTION_TEXT = {
    "cnipa_patent": "请补正：转让人签章与登记的专利权人名称不一致，请提交经公证的名称变更证明或重新签署的转让合同。"
                    " Please correct: the assignor's seal does not match the patentee of record; submit notarised "
                    "proof of the name change or a re-signed agreement.",
    "default": "Please correct: the cover sheet's receiving-party address is incomplete; submit a corrected cover sheet.",
}


def _latency():
    seconds = getattr(settings, "SIMULATED_OFFICE_LATENCY", None)
    if seconds is None:
        seconds = os.environ.get("SIMULATED_OFFICE_LATENCY", "0")
    seconds = float(seconds or 0)
    if seconds > 0:
        time.sleep(seconds)


def _scaled(days: float) -> timedelta:
    return timedelta(seconds=days * 86400 * scale())


class SimulatedOfficeGateway(OfficeGateway):
    name = "simulated"
    polls = True

    def submit(self, filing, *, package: dict) -> SubmitResult:
        profile = PROFILES[filing.office]
        now = timezone.now()
        outcome = filing.simulated_outcome or getattr(settings, "TRANSFER_SIMULATED_OUTCOME", "approve")
        reference = f"{profile.reference_prefix}-{now:%Y%m%d}-{secrets.token_hex(4).upper()}"
        decide_at = now + _scaled(profile.answer_days)
        SimulatedOfficeCase.objects.create(
            office=filing.office, reference=reference, received_at=now, decide_at=decide_at, outcome=outcome,
            payload={"numbers": package.get("numbers", []), "conveying": package.get("conveying_party", ""),
                     "receiving": package.get("receiving_party", "")},
        )
        return SubmitResult(reference=reference, expected_answer_at=decide_at, first_poll_at=decide_at)

    def resubmit(self, filing, *, note: str) -> SubmitResult:
        profile = PROFILES[filing.office]
        now = timezone.now()
        decide_at = now + _scaled(profile.answer_days / 2)
        SimulatedOfficeCase.objects.filter(reference=filing.reference).update(resubmitted_at=now, decide_at=decide_at)
        return SubmitResult(reference=filing.reference, expected_answer_at=decide_at, first_poll_at=decide_at)

    def status_many(self, filings) -> dict[int, OfficeAnswer]:
        _latency()
        by_ref = {f.reference: f for f in filings if f.reference}
        cases = {c.reference: c for c in SimulatedOfficeCase.objects.filter(reference__in=list(by_ref))}
        now = timezone.now()
        answers: dict[int, OfficeAnswer] = {}
        for reference, filing in by_ref.items():
            case = cases.get(reference)
            if case is None:
                answers[filing.pk] = OfficeAnswer(OfficeAnswer.REJECTED, text="Unknown application reference.")
                continue
            answers[filing.pk] = self._answer(case, now)
        return answers

    def _answer(self, case: SimulatedOfficeCase, now) -> OfficeAnswer:
        profile = PROFILES[case.office]
        texts = (REJECTION_TEXT.get(case.office, REJECTION_TEXT["default"]),
                 CORRECTION_TEXT.get(case.office, CORRECTION_TEXT["default"]))
        if now < case.decide_at:
            return OfficeAnswer(OfficeAnswer.PENDING)
        wants_correction = case.outcome in (SimulatedOfficeCase.Outcome.CORRECTION,
                                             SimulatedOfficeCase.Outcome.CORRECTION_THEN_REJECT)
        if wants_correction and case.corrections_asked == 0:
            case.corrections_asked = 1
            case.correction_due = now + max(_scaled(profile.correction_days), timedelta(seconds=1))
            case.save(update_fields=["corrections_asked", "correction_due"])
            return OfficeAnswer(OfficeAnswer.CORRECTION, notice_number=f"{case.reference}-C1", text=texts[1],
                                issued_at=now, correction_due=case.correction_due)
        if wants_correction and case.resubmitted_at is None:
            if case.correction_due and now >= case.correction_due:
                return OfficeAnswer(OfficeAnswer.REJECTED, notice_number=f"{case.reference}-W",
                                    text="No answer to the request for correction in time: the filing is deemed "
                                         "withdrawn.", issued_at=case.correction_due)
            return OfficeAnswer(OfficeAnswer.CORRECTION, notice_number=f"{case.reference}-C1", text=texts[1],
                                issued_at=now, correction_due=case.correction_due)
        if case.outcome in (SimulatedOfficeCase.Outcome.REJECT, SimulatedOfficeCase.Outcome.CORRECTION_THEN_REJECT):
            return OfficeAnswer(OfficeAnswer.REJECTED, notice_number=f"{case.reference}-R", text=texts[0],
                                issued_at=case.decide_at)
        return OfficeAnswer(
            OfficeAnswer.APPROVED, notice_number=f"{case.reference}-N", issued_at=case.decide_at,
            text=f"{profile.notice_title_zh} / {profile.notice_title_en}: {case.reference}",
        )
