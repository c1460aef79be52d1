"""USPTO Open Data Portal (ODP), Patent File Wrapper API: application data, status and assignments.

- `GET {base}/api/v1/patent/applications/{applicationNumberText}` (an application number), or
  `GET {base}/api/v1/patent/applications/search?q=applicationMetaData.patentNumber:{n}` (a patent
  number); header `X-API-KEY` (environment `USPTO_ODP_API_KEY`; a key from data.uspto.gov).
- Answer: `{"count": n, "patentFileWrapperDataBag": [{"applicationNumberText", "applicationMetaData":
  {...inventionTitle, filingDate, grantDate, patentNumber, applicationStatusDescriptionText,
  applicationTypeCode, applicantBag, cpcClassificationBag...}, "assignmentBag": [{reelNumber,
  frameNumber, assignmentRecordedDate, conveyanceText, assigneeBag: [{assigneeNameText}]}]}]}`
  (shape from the ODP documentation's example response; tests replay it).
- Owner of record: the assignee of the latest recorded assignment conveying the interest, else the
  first applicant. Security agreements and licences recorded at the assignment branch appear as
  encumbrances (pledge / licence), with their reel/frame.
- ODP limits: rate-limited per key (HTTP 429 with Retry-After); we keep below
  `REGISTER_RATE_PER_MINUTE["uspto_odp"]` (default 50/min) and retry 429/5xx with backoff.
"""

from __future__ import annotations

import datetime
import logging

from django.utils.translation import gettext as _

from ..models import LegalStatus, RecordSource
from ..numbers import ParsedNumber, parse_candidates
from .http import HttpRegister, Malformed, RegisterUnavailable, unavailable_message

log = logging.getLogger(__name__)

TYPE_KINDS = {"UTL": "invention", "PLT": "invention", "REI": "invention", "DES": "design"}


def _date(value):
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise Malformed(f"bad date {value!r}") from None


def status_of(text: str, granted: bool) -> str:
    t = (text or "").lower()
    if "expired" in t and ("nonpayment" in t or "maintenance" in t):
        return LegalStatus.LAPSED
    if "expired" in t:
        return LegalStatus.EXPIRED
    if "abandon" in t:
        return LegalStatus.LAPSED
    if "patented" in t or granted:
        return LegalStatus.VALID
    return LegalStatus.PENDING


def encumbrance_of(conveyance: str):
    c = (conveyance or "").upper()
    if "SECURITY" in c or "PLEDGE" in c or "LIEN" in c:
        return "pledge"
    if "EXCLUSIVE LICENSE" in c:
        return "exclusive_licence"
    if "LICENSE" in c:
        return "non_exclusive_licence"
    return None


def map_wrapper(bag: dict) -> dict:
    try:
        meta = bag["applicationMetaData"]
        app_number = str(bag["applicationNumberText"])
        title = meta["inventionTitle"]
    except (KeyError, TypeError) as exc:
        raise Malformed(f"missing {exc}") from None
    if not isinstance(meta, dict) or not app_number.isdigit():
        raise Malformed("applicationMetaData")
    kind = TYPE_KINDS.get(meta.get("applicationTypeCode") or "UTL", "invention")
    patent_number = str(meta.get("patentNumber") or "").strip()
    grant = _date(meta.get("grantDate"))
    owner = ""
    assignments, encumbrances = [], []
    for a in sorted(bag.get("assignmentBag") or [], key=lambda a: a.get("assignmentRecordedDate") or ""):
        assignees = [x.get("assigneeNameText", "") for x in a.get("assigneeBag") or []]
        entry = {"reel_frame": a.get("reelNumber/frameNumber") or f"{a.get('reelNumber')}/{a.get('frameNumber')}",
                 "recorded": a.get("assignmentRecordedDate"), "conveyance": a.get("conveyanceText", ""),
                 "assignees": assignees,
                 "assignors": [x.get("assignorName", "") for x in a.get("assignorBag") or []]}
        assignments.append(entry)
        enc = encumbrance_of(entry["conveyance"])
        if enc:
            encumbrances.append({"type": enc, "holder": ", ".join(assignees), "until": None,
                                 "reference": f"reel/frame {entry['reel_frame']}", "via": "uspto"})
        elif "ASSIGNMENT" in entry["conveyance"].upper() and assignees:
            owner = assignees[0]
    applicants = meta.get("applicantBag") or []
    owner = owner or (applicants[0].get("applicantNameText") if applicants else "") or meta.get(
        "firstApplicantName") or ""
    if not owner:
        raise Malformed("no applicant")
    application_number = f"{app_number[:2]}/{app_number[2:]}"
    number = (("D" + patent_number.lstrip("D")) if kind == "design" and patent_number and not
              patent_number.startswith("D") else patent_number) or application_number
    if patent_number:
        number = parse_candidates("US" + number, jurisdiction="US")[0].normalized
    country = ""
    if applicants:
        country = (applicants[0].get("countryCode") or "")[:2]
    return {
        "jurisdiction": "US", "kind": kind, "number": number, "application_number": application_number,
        "publication_number": (meta.get("earliestPublicationNumber") or "").replace(" ", "").replace("-", ""),
        "title": title[:500], "title_en": title[:500], "owner_name": owner[:300], "owner_country": country,
        "filing_date": _date(meta.get("filingDate")), "grant_date": grant,
        "legal_status": status_of(meta.get("applicationStatusDescriptionText"), bool(patent_number)),
        "classes": list(meta.get("cpcClassificationBag") or [])[:20],
        "encumbrances": encumbrances,
        "raw": {"status": meta.get("applicationStatusDescriptionText"), "status_date": meta.get("applicationStatusDate"),
                "assignments": assignments},
    }


class OdpRegister(HttpRegister):
    name = "uspto_odp"
    office = "USPTO"
    jurisdiction = "US"
    source = RecordSource.USPTO_ODP
    api_key_env = "USPTO_ODP_API_KEY"
    base_url_setting = "USPTO_ODP_BASE_URL"
    default_base_url = "https://api.uspto.gov"
    rate_per_minute = 50

    def headers(self):
        return {"X-API-KEY": self.api_key, "Accept": "application/json"}

    def fetch(self, parsed: ParsedNumber) -> dict | None:
        if parsed.is_trademark:
            return None
        if parsed.number_type == "application":
            url = f"{self.base_url}/api/v1/patent/applications/{parsed.normalized.replace('/', '')}"
            response = self.request("GET", url, headers=self.headers())
        elif parsed.number_type == "registration":
            url = f"{self.base_url}/api/v1/patent/applications/search"
            response = self.request("GET", url, headers=self.headers(),
                                    params={"q": f"applicationMetaData.patentNumber:{parsed.normalized}"})
        else:
            return None
        if response.status_code == 404:
            return None
        try:
            body = response.json()
        except ValueError:
            raise Malformed("not JSON") from None
        if not isinstance(body, dict):
            raise Malformed("not an object")
        bags = body.get("patentFileWrapperDataBag")
        if not body.get("count") or not bags:
            if "count" not in body:
                raise Malformed("no count")
            return None
        return map_wrapper(bags[0])

    def number_text(self, record):
        return record.application_number or record.number

    supports_owner_search = True

    def search_owner(self, *, name, jurisdiction=None, limit=25):
        """Applications whose applicant's name matches (ODP search, `q` on the applicant bag); each
        answer is stored like a looked-up right (the register's cache), so picking it imports it."""
        name = " ".join(name.replace('"', " ").split())
        if not name:
            return []
        if not self.configured:
            raise RegisterUnavailable(_("The %(office)s register is not configured on this exchange (no API key). "
                                        "Enter the right by hand with its certificate and a register extract.")
                                      % {"office": self.office})
        response = self.request("GET", f"{self.base_url}/api/v1/patent/applications/search", headers=self.headers(),
                                params={"q": f'applicationMetaData.applicantBag.applicantNameText:"{name}"',
                                        "offset": 0, "limit": min(limit, 100)})
        if response.status_code == 404:  # ODP answers a search without hits with 404 too
            return []
        try:
            body = response.json()
            bags = body.get("patentFileWrapperDataBag") or [] if isinstance(body, dict) else None
        except ValueError:
            bags = None
        if bags is None or not isinstance(bags, list):
            raise RegisterUnavailable(unavailable_message(self.office))
        records = []
        for bag in bags[:limit]:
            try:
                records.append(self.store(map_wrapper(bag)))
            except Malformed as exc:
                log.warning("register %s: a search hit we could not read: %s", self.name, exc)
        return records
