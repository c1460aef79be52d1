"""Patent and trademark offices behind one small interface (DESIGN section 4).

`route(jurisdiction, kind)` picks the office that records a transfer of a right; `gateway_for(filing)`
returns the adapter a filing uses: the embedded simulated office (default) or the manual adapter
for real offices (the platform prepares the filing package, staff submit it and record the
reference and, later, the notice). Settings:

- `TRANSFER_OFFICE_ADAPTER` ("simulated" or "manual"; default "simulated") and
  `TRANSFER_OFFICE_ADAPTERS` ({office: adapter}) choose the adapter for new filings;
- `TRANSFER_SIMULATED_OUTCOME` ("approve", "reject", "correction", "correction_reject") is the
  simulated office's default answer; a filing's `simulated_outcome` overrides it;
- `SIMULATION_TIME_SCALE` multiplies every simulated delay (tests 0, local development 0.0005).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from rights.routes import RECORDING_OFFICES, recording_office
from transfers.models import Office

from .base import OfficeAnswer, OfficeGateway, SubmitResult

DAY = 86400


@dataclass(frozen=True)
class OfficeProfile:
    office: str
    name: str
    country: str
    answer_days: float  # typical time to a decision
    correction_days: float  # time the office gives to answer a correction request
    reference_prefix: str
    notice_title_zh: str
    notice_title_en: str
    bilingual: bool

    @property
    def answer_delay(self) -> timedelta:
        return timedelta(seconds=self.answer_days * DAY)


PROFILES: dict[str, OfficeProfile] = {
    Office.CNIPA_PATENT: OfficeProfile(Office.CNIPA_PATENT, "CNIPA", "CN", 30, 60, "CNZL",
                                       "手续合格通知书", "Notice of approval of the recordation", True),
    Office.CNIPA_TRADEMARK: OfficeProfile(Office.CNIPA_TRADEMARK, "CNIPA Trademark Office", "CN", 180, 30, "CNTM",
                                          "核准转让注册商标证明", "Certificate of approval of the trademark assignment",
                                          True),
    Office.USPTO_PATENT: OfficeProfile(Office.USPTO_PATENT, "USPTO", "US", 3, 60, "PAT",
                                       "专利权转让登记通知", "Notice of Recordation of Assignment Document", False),
    Office.USPTO_TRADEMARK: OfficeProfile(Office.USPTO_TRADEMARK, "USPTO", "US", 5, 60, "TM",
                                          "商标转让登记通知", "Notice of Recordation of Assignment Document", False),
    Office.EUIPO: OfficeProfile(Office.EUIPO, "EUIPO", "EU", 14, 60, "EUTM",
                                "转让登记通知", "Notification of registration of a transfer", False),
    Office.WIPO_MADRID: OfficeProfile(Office.WIPO_MADRID, "WIPO", "WO", 45, 90, "MM",
                                      "国际注册变更通知", "Notification of recording of a change in ownership", False),
    # CPCC: contract registration of a software copyright transfer / exclusive licence, about 30
    # working days; the certificate of contract registration is the notice.
    Office.CPCC: OfficeProfile(Office.CPCC, "CPCC", "CN", 30, 30, "CPCC",
                               "著作权合同登记证书", "Certificate of registration of the copyright contract", True),
    # EPO: registration of a transfer of a European patent application (Rule 22 EPC, Form 2544),
    # usually within weeks; the Register entry and the EPO's communication are the notice.
    Office.EPO: OfficeProfile(Office.EPO, "EPO", "EP", 30, 60, "EP",
                              "欧洲专利登记簿转让登记通知", "Communication of the registration of a transfer (Rule 22 EPC)",
                              False),
    # Granted European patents: one recordal per validation state (DPMA, INPI, UKIPO, ...) named by the
    # seller; the cover lists the states and staff file with each national office.
    Office.EP_NATIONAL: OfficeProfile(Office.EP_NATIONAL, "National offices (EP validation states)", "EP", 60, 60,
                                      "EPN", "各指定国专利局转让登记通知",
                                      "Notices of recordal of the transfer from the national offices", False),
}

# (jurisdiction, kind) -> office: the table lives in rights.routes (listings reads it too). Missing
# pairs have no office route (a gate explains it; listings ask the seller to name one).
ROUTES: dict[tuple[str, str], str] = dict(RECORDING_OFFICES)

NO_ROUTE_MESSAGE = _(
    "The platform cannot record a transfer of %(kind)s in %(jurisdiction)s: European and international "
    "patents are recorded by the EPO or the national offices. Escrow staff will contact both parties."
)


# Pledges (and their release) are recorded by: CNIPA for Chinese patents (专利权质押登记) and trademarks
# (商标专用权质权登记), the USPTO Assignment Recordation Branch for US security interests, the CPCC for
# software copyrights (计算机软件著作权质权登记). Other pairs have no pledge route on the platform.
PLEDGE_ROUTES: dict[tuple[str, str], str] = {
    **{("CN", k): Office.CNIPA_PATENT for k in ("invention", "utility_model", "design")},
    **{("US", k): Office.USPTO_PATENT for k in ("invention", "design")},
    ("CN", "trademark"): Office.CNIPA_TRADEMARK,
    ("US", "trademark"): Office.USPTO_TRADEMARK,
    ("CN", "software_copyright"): Office.CPCC,
}
# (office, recordal kind) -> the notice's title (zh, en) when the office records it.
RECORDAL_NOTICES: dict[tuple[str, str], tuple[str, str]] = {
    (Office.CNIPA_PATENT, "pledge"): ("专利权质押登记通知书", "Notice of registration of a patent pledge"),
    (Office.CNIPA_PATENT, "pledge_release"): ("专利权质押登记注销通知书", "Notice of deregistration of a patent pledge"),
    (Office.CNIPA_TRADEMARK, "pledge"): ("商标专用权质权登记证", "Certificate of registration of a trademark pledge"),
    (Office.CNIPA_TRADEMARK, "pledge_release"): ("商标专用权质权注销登记通知",
                                                 "Notice of cancellation of a trademark pledge"),
    (Office.USPTO_PATENT, "pledge"): ("担保权益登记通知", "Notice of Recordation (security agreement)"),
    (Office.USPTO_PATENT, "pledge_release"): ("担保权益解除登记通知", "Notice of Recordation (release of security interest)"),
    (Office.USPTO_TRADEMARK, "pledge"): ("担保权益登记通知", "Notice of Recordation (security agreement)"),
    (Office.USPTO_TRADEMARK, "pledge_release"): ("担保权益解除登记通知",
                                                 "Notice of Recordation (release of security interest)"),
    (Office.CPCC, "pledge"): ("著作权质权登记证书", "Certificate of registration of a copyright pledge"),
    (Office.CPCC, "pledge_release"): ("著作权质权注销登记通知书", "Notice of cancellation of a copyright pledge"),
}


def pledge_route(jurisdiction: str, kind: str) -> str | None:
    """The office that records a pledge on (or its release from) a right of `kind` in `jurisdiction`."""
    return PLEDGE_ROUTES.get((jurisdiction, kind))


def route(jurisdiction: str, kind: str) -> str | None:
    """The office that records a transfer of a right of `kind` in `jurisdiction`, or None."""
    return ROUTES.get((jurisdiction, kind))


def route_of(right) -> str | None:
    """The office that records a transfer of `right` (a Right, or a right's dict in the papers' data):
    the table, then the EP cases (an application goes to the EPO, a granted patent to the national
    offices of the states the seller named)."""
    get = right.get if isinstance(right, dict) else lambda name, default="": getattr(right, name, default)
    return recording_office(get("jurisdiction"), get("kind"), legal_status=get("legal_status", "") or "",
                            filing_route=get("filing_route", "") or "")


def offices_for(rights) -> dict[str, list]:
    """The rights of a package grouped by the office that records them (one filing per office)."""
    grouped: dict[str, list] = {}
    for right in rights:
        office = route_of(right)
        if office is not None:
            grouped.setdefault(office, []).append(right)
    return dict(sorted(grouped.items()))


def route_rights(rights) -> tuple[str | None, list[str]]:
    """The first office for a list of rights and the reasons a filing route cannot be found (rights
    recorded by several offices are filed once per office: see `offices_for`)."""
    offices, problems = set(), []
    if not rights:
        problems.append(str(_("This order has no registered right to transfer.")))
    for right in rights:
        office = route_of(right)
        if office is None:
            problems.append(str(NO_ROUTE_MESSAGE % {"kind": right.get_kind_display(),
                                                    "jurisdiction": right.get_jurisdiction_display()}))
        else:
            offices.add(office)
    return (sorted(offices)[0] if offices else None), problems


def scale() -> float:
    return float(getattr(settings, "SIMULATION_TIME_SCALE", 1.0))


def adapter_name_for(office: str) -> str:
    per_office = getattr(settings, "TRANSFER_OFFICE_ADAPTERS", {}) or {}
    return per_office.get(office) or getattr(settings, "TRANSFER_OFFICE_ADAPTER", "simulated")


def get_gateway(adapter: str) -> OfficeGateway:
    from .manual import ManualOfficeGateway
    from .simulated import SimulatedOfficeGateway

    gateways = {"simulated": SimulatedOfficeGateway, "manual": ManualOfficeGateway}
    try:
        return gateways[adapter]()
    except KeyError:
        raise ValueError(f"unknown office adapter {adapter!r}") from None


def gateway_for(filing) -> OfficeGateway:
    return get_gateway(filing.adapter)


def backoff(office: str, attempts: int) -> timedelta:
    """Wait before asking the office again after `attempts` unanswered polls: one hour doubling each
    time, never more than a quarter of the office's typical delay nor a day, scaled like every
    simulated delay."""
    profile = PROFILES[office]
    seconds = min(3600 * 2 ** min(attempts, 10), profile.answer_days * DAY / 4, DAY)
    return timedelta(seconds=seconds * scale())


__all__ = ["PROFILES", "ROUTES", "PLEDGE_ROUTES", "RECORDAL_NOTICES", "pledge_route", "OfficeAnswer", "OfficeGateway",
           "OfficeProfile", "SubmitResult", "route", "route_of", "route_rights", "offices_for", "gateway_for", "get_gateway",
           "adapter_name_for", "backoff", "scale"]
