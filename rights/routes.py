"""Which office records a change of owner (or a licence) of a right, by jurisdiction and kind: the one
table shared by listings (a right without a route cannot be published until the seller names one)
and transfers (its office gateways, `transfers.offices.ROUTES`).

- CN patents: CNIPA (patent recordal of assignment); CN trademarks: CNIPA Trademark Office.
- CN software copyrights and works: the Copyright Protection Center of China (CPCC) records the
  transfer or exclusive-licence contract (计算机软件著作权转让/专有许可合同登记; 作品著作权合同备案).
- US patents and trademarks: USPTO assignment recordation (Assignment Center).
- EU trade marks and registered Community designs: EUIPO; international marks: WIPO Madrid.
- Granted European patents (EP invention) have no central recordal after the opposition period:
  transfers are recorded by the national offices of the validation states, so none here.
"""

from __future__ import annotations

PATENT_KINDS = ("invention", "utility_model", "design")

RECORDING_OFFICES: dict[tuple[str, str], str] = {}
for _kind in PATENT_KINDS:
    RECORDING_OFFICES[("CN", _kind)] = "cnipa_patent"
    RECORDING_OFFICES[("US", _kind)] = "uspto_patent"
RECORDING_OFFICES[("CN", "trademark")] = "cnipa_trademark"
RECORDING_OFFICES[("US", "trademark")] = "uspto_trademark"
RECORDING_OFFICES[("EP", "trademark")] = "euipo"
RECORDING_OFFICES[("EP", "design")] = "euipo"
RECORDING_OFFICES[("WO", "trademark")] = "wipo_madrid"
RECORDING_OFFICES[("CN", "software_copyright")] = "cpcc"
RECORDING_OFFICES[("CN", "works_copyright")] = "cpcc"


def recording_office(jurisdiction: str, kind: str) -> str | None:
    return RECORDING_OFFICES.get((jurisdiction, kind))


def has_filing_route(jurisdiction: str, kind: str) -> bool:
    return recording_office(jurisdiction, kind) is not None
