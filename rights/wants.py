"""Rights held but not for sale that their holders opened to buyers' wants (DESIGN section 9: demand
matches wants; rights only keeps the holder's choice and finds the opted-in rights by class or word).

- `holdings_open_to_wants_set` (durable): the holder opens or closes some or all of its current holdings.
- `holdings_open_to_wants`: opted-in current holdings of the exchange whose register record shares a
  class (subclass or deeper) or a title/abstract word with a want; returns plain rows for demand.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.errors import NotAllowed
from core.events import emit
from core.permissions import is_member
from core.tenancy import require_tenant

from .classes import class_keys
from .models import Holding


@dataclass
class OpenRight:
    holding_id: int
    organization_id: int
    record_id: int
    number: str
    jurisdiction: str
    kind: str
    title: str
    class_keys: list[str]
    text: str = field(repr=False, default="")


@transaction.atomic(durable=True)
def holdings_open_to_wants_set(*, organization, actor, open_: bool, holding_ids: list[int] | None = None,
                               classes: list[str] | None = None) -> list[int]:
    """Open (or close) the organization's current holdings to buyers' wants: the listed ids, those in one
    of `classes` (normalised IPC/CPC "H01M", "H01M4/13" — that class and everything under it — or Nice
    "09"), or all of them when both are None. Returns the ids that changed. Audited per holding."""
    if actor is None or not actor.is_authenticated or not is_member(actor, organization):
        raise NotAllowed(_("Only a member of the holder's organization can decide this."))
    qs = (Holding.objects.select_for_update(of=("self",))
          .filter(organization=organization, ended_at__isnull=True).exclude(open_to_wants=open_).order_by("pk"))
    if holding_ids is not None:
        qs = qs.filter(pk__in=[int(i) for i in holding_ids])
    changed = list(qs.select_related("record")) if classes is not None else list(qs)
    if classes is not None:  # an organization's holdings are few: their class keys are compared here
        wanted = set(classes)
        changed = [h for h in changed if wanted & set(class_keys(h.record.kind, h.record.classes or []))]
    for holding in changed:
        holding.open_to_wants = open_
        holding.save(update_fields=["open_to_wants", "updated_at"])
        audit_record(actor=actor, action="holding.open_to_wants" if open_ else "holding.closed_to_wants",
                     obj=holding, data={"record": holding.record_id})
    if changed and not open_:  # demand withdraws the matches already sent (same transaction)
        emit("holding.closed_to_wants", organizations=[organization], data={"holdings": [h.pk for h in changed]},
             actor=actor)
    return [h.pk for h in changed]


def holdings_open_to_wants(*, keys: list[str], words: list[str], kinds: list[str] | None = None,
                           exclude_org_id: int | None = None, limit: int = 300) -> list[OpenRight]:
    """Opted-in current holdings whose record shares a class key (subclass level or deeper: 'H01M',
    'H01M4', 'H01M4/13', Nice '09') or contains one of `words` (title, English title, abstract).
    Opted-in holdings are few next to listings; the partial index `holding_open_to_wants` keeps the scan
    to them."""
    tenant = require_tenant()
    subclasses = sorted({k[:4] for k in keys if not k.isdigit() and len(k) >= 4})
    nice = sorted({k for k in keys if k.isdigit()})
    words = [w for w in words if w][:12]
    if not subclasses and not nice and not words:
        return []
    conds, params = [], []
    if subclasses:
        conds.append("EXISTS (SELECT 1 FROM unnest(r.classes) c WHERE left(upper(replace(c, ' ', '')), 4) = ANY(%s))")
        params.append(subclasses)
    if nice:
        conds.append("EXISTS (SELECT 1 FROM unnest(r.classes) c WHERE c ~ '^[0-9]{1,2}$' AND lpad(c, 2, '0') = ANY(%s))")
        params.append(nice)
    for w in words:
        conds.append("(r.title ILIKE %s OR r.title_en ILIKE %s OR r.abstract ILIKE %s)")
        like = "%" + w.replace("\\", "").replace("%", "").replace("_", "") + "%"
        params += [like, like, like]
    where = ["h.tenant_id = %s", "h.ended_at IS NULL", "h.open_to_wants",
             "r.legal_status NOT IN ('lapsed', 'expired', 'invalidated')"]
    head: list = [tenant.pk]
    if exclude_org_id:
        where.append("h.organization_id <> %s")
        head.append(exclude_org_id)
    if kinds:
        where.append("r.kind = ANY(%s)")
        head.append(list(kinds))
    sql = f"""
        SELECT {_COLUMNS}
        FROM rights_holding h JOIN rights_registerrecord r ON r.id = h.record_id
        WHERE {" AND ".join(where)} AND ({" OR ".join(conds)})
        ORDER BY h.id DESC LIMIT {int(limit)}
    """  # noqa: S608 (only our own fragments are formatted in; values are parameters)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*head, *params])
        return [_open_right(r) for r in cursor.fetchall()]


_COLUMNS = """h.id, h.organization_id, r.id, r.number, r.jurisdiction, r.kind, r.title, r.title_en, r.classes,
              left(r.abstract, 2000), left(r.abstract_en, 2000)"""


def _open_right(r) -> OpenRight:
    return OpenRight(holding_id=r[0], organization_id=r[1], record_id=r[2], number=r[3], jurisdiction=r[4],
                     kind=r[5], title=r[6] or r[7], class_keys=class_keys(r[5], r[8] or []),
                     text=" ".join(x or "" for x in (r[6], r[7], r[9], r[10])).lower())


def open_rights_by_id(holding_ids: list[int]) -> list[OpenRight]:
    """These holdings of the exchange, if current and open to wants (what demand matches after an opt-in)."""
    tenant = require_tenant()
    ids = [int(i) for i in holding_ids]
    if not ids:
        return []
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {_COLUMNS} FROM rights_holding h JOIN rights_registerrecord r ON r.id = h.record_id "  # noqa: S608
                       "WHERE h.tenant_id = %s AND h.id = ANY(%s) AND h.ended_at IS NULL AND h.open_to_wants "
                       "ORDER BY h.id", [tenant.pk, ids])
        return [_open_right(r) for r in cursor.fetchall()]
