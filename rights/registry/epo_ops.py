"""EPO Open Patent Services (OPS) v3.2 through the maintained `python-epo-ops-client`:
bibliographic data (published-data/biblio) and INPADOC legal status (legal) of EP patents.

- Credentials: environment `EPO_OPS_KEY` and `EPO_OPS_SECRET` (OAuth client credentials of a
  developer.epo.org app); the client fetches and renews the access token
  (`POST https://ops.epo.org/3.2/auth/accesstoken`).
- Requests: `POST .../rest-services/published-data/{publication|application}/epodoc/biblio` and
  `.../legal` with the epodoc number as body; answers are `ops:world-patent-data` XML
  (`exchange-documents/exchange-document/bibliographic-data`, `ops:legal` events with `code`/`desc`).
- Fair use: OPS announces its load in `X-Throttling-Control` (idle/busy/overloaded, and per service
  colour green/yellow/red/black with requests per minute). We honour it: `black` or `overloaded` is
  treated like a 503 (retry later); quotas exceeded (HTTP 403 with `X-Rejection-Reason`) make the
  register unavailable until the next hour. The client's own throttler and cache are not used: this
  adapter's retries, rate limit and the register table cache do that job.
"""

from __future__ import annotations

import datetime
import re
from xml.etree import ElementTree as ET  # noqa: S405 (OPS answers; no DTDs or entities are resolved)

import epo_ops
import requests
from django.core.cache import cache
from django.utils.translation import gettext as _

from ..models import LegalStatus, RecordSource
from ..numbers import ParsedNumber, parse_candidates
from .http import HttpRegister, Malformed, RegisterUnavailable, unavailable_message

NS = {"ex": "http://www.epo.org/exchange", "ops": "http://ops.epo.org"}
LAPSE_CODES = {"18D": LegalStatus.LAPSED, "18W": LegalStatus.LAPSED, "18R": LegalStatus.LAPSED,
               "18G": LegalStatus.LAPSED}


def _date(text):
    text = (text or "").strip()
    if not re.fullmatch(r"\d{8}", text):
        return None
    return datetime.date(int(text[:4]), int(text[4:6]), int(text[6:]))


def parse_biblio(xml: bytes) -> dict | None:
    try:
        root = ET.fromstring(xml)  # noqa: S314
    except ET.ParseError:
        raise Malformed("not XML") from None
    doc = root.find(".//ex:exchange-document", NS)
    if doc is None:
        if root.find(".//ex:exchange-documents", NS) is not None or root.tag.endswith("world-patent-data"):
            raise Malformed("no exchange-document")
        raise Malformed("unexpected root")
    if doc.get("status") == "not found":
        return None
    return parse_document(doc)


def parse_document(doc) -> dict:
    """One `exchange-document` (a biblio answer's, or a search hit's with the biblio constituent)."""
    biblio = doc.find("ex:bibliographic-data", NS)
    if biblio is None:
        raise Malformed("no bibliographic-data")
    titles = {t.get("lang"): (t.text or "").strip() for t in biblio.findall("ex:invention-title", NS)}
    title_en = titles.get("en", "")
    title = title_en or next(iter(titles.values()), "")
    applicants = biblio.findall("ex:parties/ex:applicants/ex:applicant", NS)
    original = [a for a in applicants if a.get("data-format") == "original"] or applicants
    owner = (original[0].findtext("ex:applicant-name/ex:name", "", NS).strip() if original else "")
    owner = re.sub(r"\s*\[[A-Z]{2}\]$", "", owner)
    country = ""
    for a in applicants:
        m = re.search(r"\[([A-Z]{2})\]$", a.findtext("ex:applicant-name/ex:name", "", NS).strip())
        if m:
            country = m.group(1)
            break
    app_ref = biblio.find("ex:application-reference/ex:document-id[@document-id-type='docdb']", NS)
    app_epodoc = biblio.find("ex:application-reference/ex:document-id[@document-id-type='epodoc']", NS)
    if app_ref is None or not title or not owner:
        raise Malformed("application reference, title or applicant missing")
    app_digits = app_ref.findtext("ex:doc-number", "", NS).strip()
    filing = _date(app_epodoc.findtext("ex:date", "", NS) if app_epodoc is not None else "") or _date(
        app_ref.findtext("ex:date", "", NS))
    kind = doc.get("kind", "")
    pub = f"EP{doc.get('doc-number')}{kind}"
    pub_date = None
    for d in biblio.findall("ex:publication-reference/ex:document-id", NS):
        pub_date = pub_date or _date(d.findtext("ex:date", "", NS))
    number = parse_candidates("EP" + app_digits[-8:], jurisdiction="EP")[0].normalized if len(app_digits) >= 8 else ""
    if not number:
        raise Malformed("application number")
    classes = [re.sub(r"\s+", "", c.text or "")[:-2] or "" for c in
               biblio.findall("ex:classifications-ipcr/ex:classification-ipcr/ex:text", NS)]
    abstract = doc.find(".//ex:abstract[@lang='en']", NS)
    granted = kind.startswith("B")
    return {
        "jurisdiction": "EP", "kind": "invention", "number": number, "publication_number": pub,
        "title": title[:500], "title_en": title_en[:500],
        "abstract_en": " ".join(p.text or "" for p in abstract.findall("ex:p", NS)) if abstract is not None else "",
        "owner_name": owner[:300], "owner_country": country, "filing_date": filing,
        "grant_date": pub_date if granted else None,
        "legal_status": LegalStatus.VALID if granted else LegalStatus.PENDING,
        "classes": [c[:4] + " " + c[4:] if len(c) > 4 else c for c in classes if c][:20],
        "raw": {"publication": pub, "kind": kind},
    }


def parse_search(xml: bytes) -> list[dict]:
    """A published-data search answer with the biblio constituent (`ops:biblio-search` →
    `ops:search-result/exchange-documents/exchange-document`): each EP application once, its latest
    publication (B over A) giving the status."""
    try:
        root = ET.fromstring(xml)  # noqa: S314
    except ET.ParseError:
        raise Malformed("search: not XML") from None
    search = root.find("ops:biblio-search", NS)
    if search is None:
        raise Malformed("search: no ops:biblio-search")
    by_number: dict[str, dict] = {}
    for doc in search.findall("ops:search-result/ex:exchange-documents/ex:exchange-document", NS):
        if doc.get("country") != "EP" or doc.get("status") == "not found":
            continue
        try:
            data = parse_document(doc)
        except Malformed:
            continue
        seen = by_number.get(data["number"])
        if seen is None or (data["raw"]["kind"].startswith("B") and not seen["raw"]["kind"].startswith("B")):
            by_number[data["number"]] = data
    return list(by_number.values())


def applicant_cql(name: str) -> str:
    """CQL for the EP publications of an applicant: `pa="name" and pn=EP` (OPS CQL index catalogue:
    `pa` applicant, `pn` publication number; quotes inside the name dropped)."""
    return f'pa="{" ".join(name.replace(chr(34), " ").split())}" and pn=EP'


def parse_legal(xml: bytes) -> list[dict]:
    try:
        root = ET.fromstring(xml)  # noqa: S314
    except ET.ParseError:
        raise Malformed("legal: not XML") from None
    events = []
    for e in root.findall(".//ops:legal", NS):
        events.append({"code": e.get("code", ""), "desc": e.get("desc", ""),
                       "date": (_date(e.findtext("ops:L007EP", "", NS)) or datetime.date.min).isoformat(),
                       "state": e.findtext("ops:L501EP", "", NS) or ""})
    return events


def apply_legal(data: dict, events: list[dict]) -> dict:
    status = data["legal_status"]
    for event in events:
        desc = event["desc"].upper()
        if event["code"] in LAPSE_CODES:
            status = LAPSE_CODES[event["code"]]
        elif "REVOKED" in desc:
            status = LegalStatus.INVALIDATED
        elif "OPPOSITION" in desc and "NO OPPOSITION" not in desc:
            data["raw"]["opposition"] = event
    data["legal_status"] = status
    data["raw"]["legal_events"] = events[-30:]
    return data


class OpsRegister(HttpRegister):
    name = "epo_ops"
    office = "EPO"
    jurisdiction = "EP"
    source = RecordSource.EPO_OPS
    api_key_env = "EPO_OPS_KEY"
    rate_per_minute = 100

    def __init__(self, *, client=None, **kwargs):
        super().__init__(**kwargs)
        self._client = client

    @property
    def client(self):
        if self._client is None:
            import os

            self._client = epo_ops.Client(key=os.environ.get("EPO_OPS_KEY", ""),
                                          secret=os.environ.get("EPO_OPS_SECRET", ""),
                                          middlewares=[], timeout=self.timeout)
        return self._client

    def readings(self, text, *, jurisdiction=None, kind=None):
        return [p for p in super().readings(text, jurisdiction="EP", kind=kind) if not p.is_trademark]

    def call(self, method, *args):
        """One OPS call with retries; None when OPS says the document does not exist."""
        for attempt in range(self.retries + 1):
            self._rate_wait()
            self.calls += 1
            try:
                response = getattr(self.client, method)(*args)
            except epo_ops.exceptions.IndividualQuotaPerHourExceeded:
                raise RegisterUnavailable(unavailable_message(self.office)) from None
            except epo_ops.exceptions.RegisteredQuotaPerWeekExceeded:
                raise RegisterUnavailable(unavailable_message(self.office)) from None
            except requests.HTTPError as exc:
                status = exc.response.status_code if exc.response is not None else 0
                if status == 404:
                    return None
                if status not in (429, 500, 502, 503, 504):
                    raise RegisterUnavailable(unavailable_message(self.office)) from None
            except (requests.ConnectionError, requests.Timeout):
                pass
            else:
                throttle = response.headers.get("X-Throttling-Control", "")
                if "black" in throttle or "overloaded" in throttle:
                    cache.set(f"register:overloaded:{self.name}", 1, 60)
                else:
                    return response
            if attempt < self.retries:
                self.sleep(min(self.backoff * 2 ** attempt, self.max_wait))
        raise RegisterUnavailable(unavailable_message(self.office))

    def fetch(self, parsed: ParsedNumber) -> dict | None:
        if cache.get(f"register:overloaded:{self.name}"):
            raise RegisterUnavailable(unavailable_message(self.office))
        if parsed.number_type == "application":
            ref_type, number = "application", "EP" + parsed.normalized.split(".")[0]
        else:
            ref_type, number = "publication", re.sub(r"[AB]\d?$", "", parsed.normalized)
        biblio = self.call("published_data", ref_type, epo_ops.models.Epodoc(number), "biblio")
        if biblio is None:
            return None
        data = parse_biblio(biblio.content)
        if data is None:
            return None
        legal = self.call("legal", "publication", epo_ops.models.Epodoc(data["publication_number"][:9]))
        if legal is not None:
            data = apply_legal(data, parse_legal(legal.content))
        return data

    supports_owner_search = True

    def search_owner(self, *, name, jurisdiction=None, limit=25):
        """EP applications whose applicant's name matches (OPS published-data search, CQL `pa="…"`, the
        biblio constituent: one call for up to 100 hits); each hit is stored like a looked-up right (the
        register's cache), so picking it imports it (its legal status is read then, by the lookup)."""
        if not " ".join(name.replace('"', " ").split()):
            return []
        if not self.configured:
            raise RegisterUnavailable(_("The %(office)s register is not configured on this exchange (no API key). "
                                        "Enter the right by hand with its certificate and a register extract.")
                                      % {"office": self.office})
        if cache.get(f"register:overloaded:{self.name}"):
            raise RegisterUnavailable(unavailable_message(self.office))
        response = self.call("published_data_search", applicant_cql(name), 1, max(1, min(limit, 100)), ["biblio"])
        if response is None:  # OPS answers a search without hits with 404 (SERVER.EntityNotFound)
            return []
        try:
            hits = parse_search(response.content)
        except Malformed:
            raise RegisterUnavailable(unavailable_message(self.office)) from None
        return [self.store(data) for data in hits[:limit]]

    def number_text(self, record):
        return record.publication_number or ("EP" + record.number)


__all__ = ["OpsRegister", "applicant_cql", "parse_biblio", "parse_legal", "parse_search"]
