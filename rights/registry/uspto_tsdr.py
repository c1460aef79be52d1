"""USPTO Trademark Status & Document Retrieval (TSDR): status and owners of US trademarks.

- `GET {base}/ts/cd/casestatus/sn{serial}/info.json` (serial number) or `.../rn{registration}/info.json`;
  header `USPTO-API-KEY` (environment `USPTO_TSDR_API_KEY`; a key from account.uspto.gov/api-manager).
- Answer: `{"trademarks": [{"status": {"serialNumber", "usRegistrationNumber", "markElement",
  "status" (code), "extStatusDesc", "filingDate", "usRegistrationDate", "renewalDate"...},
  "parties": {"ownerGroups": {"10": [...], "30": [...]}}, "gsList": [{"primeClassCode"}]}]}`.
  Owner groups are keyed by party type (10 original applicant, 20 owner at publication, 30 original
  registrant, 40+ later owners): the current owner is the group with the highest type.
- TSDR allows 60 requests per minute per key (4 per minute for documents); HTTP 429 when exceeded.
"""

from __future__ import annotations

import datetime

from ..expiry import add_years
from ..models import LegalStatus, RecordSource
from ..numbers import ParsedNumber
from .http import HttpRegister, Malformed


def _date(value):
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise Malformed(f"bad date {value!r}") from None


def status_of(description: str, code) -> str:
    d = (description or "").lower()
    if "cancel" in d:
        return LegalStatus.LAPSED
    if "expired" in d:
        return LegalStatus.EXPIRED
    if "abandon" in d:
        return LegalStatus.LAPSED
    if "registered" in d or (isinstance(code, int) and 700 <= code < 710) or code == 800:
        return LegalStatus.VALID
    return LegalStatus.PENDING


class TsdrRegister(HttpRegister):
    name = "uspto_tsdr"
    office = "USPTO TSDR"
    jurisdiction = "US"
    source = RecordSource.USPTO_TSDR
    api_key_env = "USPTO_TSDR_API_KEY"
    base_url_setting = "USPTO_TSDR_BASE_URL"
    default_base_url = "https://tsdrapi.uspto.gov"
    rate_per_minute = 60

    def readings(self, text, *, jurisdiction=None, kind=None):
        return super().readings(text, jurisdiction="US", kind="trademark")

    def fetch(self, parsed: ParsedNumber) -> dict | None:
        prefix = "sn" if parsed.number_type == "application" else "rn"
        url = f"{self.base_url}/ts/cd/casestatus/{prefix}{parsed.normalized}/info.json"
        response = self.request("GET", url, headers={"USPTO-API-KEY": self.api_key, "Accept": "application/json"})
        if response.status_code == 404:
            return None
        try:
            body = response.json()
        except ValueError:
            raise Malformed("not JSON") from None
        marks = body.get("trademarks") if isinstance(body, dict) else None
        if marks is None:
            raise Malformed("no trademarks")
        if not marks:
            return None
        return self.map(marks[0])

    def map(self, mark: dict) -> dict:
        try:
            status = mark["status"]
            serial = str(status["serialNumber"])
        except (KeyError, TypeError) as exc:
            raise Malformed(f"missing {exc}") from None
        groups = ((mark.get("parties") or {}).get("ownerGroups") or {})
        owner, country = "", ""
        if groups:
            try:
                latest = groups[max(groups, key=lambda k: int(k))]
            except ValueError:
                raise Malformed("owner group keys") from None
            if latest:
                owner = latest[0].get("name", "")
                citizenship = latest[0].get("citizenship") or {}
                country = ((citizenship.get("country") or citizenship.get("stateCountry") or {}).get("code") or "")[:2]
        if not owner:
            raise Malformed("no owner")
        registration = str(status.get("usRegistrationNumber") or "").strip().lstrip("0")
        reg_date = _date(status.get("usRegistrationDate"))
        renewal = _date(status.get("renewalDate"))
        expiry = add_years(renewal or reg_date, 10) if (renewal or reg_date) else None
        classes = sorted({f"{int(g['primeClassCode']):02d}" for g in mark.get("gsList") or []
                          if str(g.get("primeClassCode", "")).isdigit() and 1 <= int(g["primeClassCode"]) <= 45})
        description = status.get("extStatusDesc") or status.get("statusDescription") or ""
        return {
            "jurisdiction": "US", "kind": "trademark", "number": registration or serial,
            "application_number": serial if registration else "",
            "title": (status.get("markElement") or status.get("markText") or serial)[:500],
            "title_en": (status.get("markElement") or "")[:500],
            "owner_name": owner[:300], "owner_country": country,
            "filing_date": _date(status.get("filingDate")), "grant_date": reg_date, "expiry_date": expiry,
            "renewal_paid_through": expiry,
            "legal_status": status_of(description, status.get("status")), "classes": classes,
            "raw": {"status_code": status.get("status"), "status": description},
        }
