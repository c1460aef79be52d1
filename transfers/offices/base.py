"""The interface every office adapter implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class SubmitResult:
    """What the office gives back when a filing is submitted. `reference` is empty when staff have to
    submit the package themselves (manual adapter) and record the reference later."""

    reference: str = ""
    expected_answer_at: datetime | None = None
    first_poll_at: datetime | None = None


@dataclass
class OfficeAnswer:
    """The office's current answer about one filing."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    CORRECTION = "correction"

    status: str = PENDING
    notice_number: str = ""
    text: str = ""
    issued_at: datetime | None = None
    correction_due: datetime | None = None
    extra: dict = field(default_factory=dict)

    @property
    def decided(self) -> bool:
        return self.status in (self.APPROVED, self.REJECTED)


class OfficeGateway:
    """An office as the platform sees it."""

    name = "base"
    polls = True  # whether the beat poller asks this adapter about filed transfers

    def submit(self, filing, *, package: dict) -> SubmitResult:  # pragma: no cover - interface
        raise NotImplementedError

    def status_many(self, filings) -> dict[int, OfficeAnswer]:  # pragma: no cover - interface
        """Answers for many filings at once, keyed by filing pk (one round trip per batch)."""
        raise NotImplementedError

    def resubmit(self, filing, *, note: str) -> SubmitResult:  # pragma: no cover - interface
        """Answer a correction request."""
        raise NotImplementedError
