"""Matching wants with what could satisfy them, both ways, ranked and explained.

- `want_candidates(want)`: a new want against published listings (and, through `SOURCES`, any other
  source such as rights held in monitored portfolios).
- `listing_candidates(listing)`: a newly published listing against open wants.

Both use the GIN indexes (class keys `&&`, full text `@@`) to find candidates, rank the best few
hundred in SQL by class and keyword overlap, then add territory and price-versus-budget in Python and
explain each: [{"code": "ipc_subclass", "value": "H01M"}, {"code": "keywords", "n": 3, ...}, ...].
A source is one function `(want) -> list[Candidate]`; adding one (e.g. rights in portfolios) is
appending it to `SOURCES`.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from core.money import format_money
from listings.search import class_token
from listings.search_text import CJK_RUN_RE as _CJK_RUN
from listings.search_text import query_terms

from . import classes as C

CANDIDATES = 200  # ranked in SQL before the Python pass
KEEP = 50  # matches stored per want / per listing
# Rows each bounded look-up contributes (deep classes; subclass and keyword; keyword only; subclass only).
# Every candidate row is read from the heap twice (the look-up, then the ranking), so these bound the
# cost of a match on a large exchange; measured at 1M listings / 100k wants (bench/match.py, note of issue 16).
POOL_DEEP, POOL_BOTH, POOL_WORDS, POOL_BROAD = 250, 250, 100, 100
# The class-and-keyword pool when its keywords are common: the class's rows are read one by one until
# this many have a keyword (each a heap visit, ~5-8 µs under load), so it is kept smaller.
POOL_BOTH_WALKED = 150


@dataclass
class Candidate:
    source: str  # "listing" | "portfolio"
    holder_org_id: int
    title: str
    class_keys: list[str]
    kind: str = ""
    jurisdiction: str = ""
    price_minor: int | None = None
    currency: str = ""
    keyword_hits: list[str] = field(default_factory=list)
    listing_id: int | None = None
    record_key: str = ""
    want_id: int | None = None
    score: float = 0.0
    reasons: list[dict] = field(default_factory=list)


MAX_KEYWORDS = 8
_TOKEN = re.compile(rf"{_CJK_RUN.pattern}|[0-9A-Za-z]+")  # as listings.search_text tokenises


@dataclass(frozen=True)
class Keyword:
    """One keyword as the buyer typed it, and its tsquery: "battery" → battery:*; "锂电池" → 锂电 & 电池
    (a Chinese word is a hit when all its bigrams are in the document, not any one of them)."""

    word: str
    query: str
    lexemes: tuple[str, ...]  # the query's parts ("battery:*" or the bigrams), to test a document's lexemes
    lookup: str = ""  # the GIN look-up: whole words only (see `keywords`)


def keywords(text: str) -> list[Keyword]:
    """The want's keywords. `query` (a prefix for Latin words: "electrode" finds "electrodes") tells
    whether a candidate has the keyword; `lookup` finds candidates in the GIN index with whole lexemes
    only (the word, +s/+es, without a final s), because a prefix is a "partial match" the index cannot
    skip through: ANDed with a class it read the whole posting list of a common word (86 ms of a 98 ms
    match at 1M listings, EXPLAIN ANALYZE), where whole lexemes take a few ms."""
    out: dict[str, Keyword] = {}
    for token in _TOKEN.findall(text or ""):
        parts = query_terms(token)
        if not parts or len(token) < 2:  # one letter or one character matches nearly everything
            continue
        cjk = bool(_CJK_RUN.fullmatch(token))
        word = token if cjk else token.lower()
        if word in out:
            continue
        if cjk:
            lookup = " & ".join(parts)
        else:
            forms = {word, f"{word}s", f"{word}es"} | ({word[:-1]} if word.endswith("s") and len(word) > 3 else set())
            lookup = " | ".join(f"'{f}'" for f in sorted(forms))
        out[word] = Keyword(word=word, query=" & ".join(parts), lexemes=tuple(parts), lookup=lookup)
    return list(out.values())[:MAX_KEYWORDS]


def _tsquery_any(words: list[Keyword]) -> str:
    return " | ".join(f"({k.lookup})" for k in words)


# A keyword in more than this share of the documents is "common": found by walking the table (a few
# thousand rows at most for a pool of 100) rather than through the GIN index, whose bitmap would first
# collect every one of its rows (a Chinese word whose bigrams are all common: 400,000 rows, 270 ms at 1M
# listings). The planner cannot tell: it multiplies the bigrams' frequencies as if independent.
COMMON_SHARE = 0.02
_FREQS: dict[str, tuple[float, dict[str, float]]] = {}


def _lexeme_shares(table: str) -> dict[str, float]:
    """The most common lexemes of `table`.search_document and the share of rows having each, from the
    planner's statistics (pg_stats, refreshed by ANALYZE), kept 10 minutes per process."""
    now = time.monotonic()
    cached = _FREQS.get(table)
    if cached is not None and now - cached[0] < 600:
        return cached[1]
    with connection.cursor() as cursor:
        cursor.execute("SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats "
                       "WHERE tablename = %s AND attname = 'search_document' AND schemaname = current_schema()",
                       [table])
        row = cursor.fetchone()
    shares = dict(zip(row[0], row[1], strict=False)) if row and row[0] else {}
    _FREQS[table] = (now, shares)
    return shares


def _share(keyword: Keyword, shares: dict[str, float]) -> float:
    """Estimated share of documents having the keyword: its rarest part (a word's bigrams go together)."""
    parts = [t for t in keyword.lexemes if not t.endswith(":*")] or [keyword.word]
    return min(shares.get(t, 0.0) for t in parts)


def _deal_filter(deal_type: str) -> list[str]:
    if deal_type == "assignment":
        return ["assignment"]
    if deal_type == "licence":
        return ["exclusive_licence", "non_exclusive_licence"]
    return []


def class_reasons(want_keys: list[str], other_keys: list[str]) -> tuple[float, list[dict]]:
    """Score and reasons of the class overlap: the deepest shared level per subclass."""
    shared = set(want_keys) & set(other_keys or [])
    if not shared:
        return 0.0, []
    by_subclass: dict[str, str] = {}
    for key in shared:
        sub = C.subclass(key)
        if len(key) > len(by_subclass.get(sub, "")):
            by_subclass[sub] = key
    score, reasons = 0.0, []
    for sub, deepest in sorted(by_subclass.items()):
        if sub.isdigit():
            score += 4
            reasons.append({"code": "nice_class", "value": sub})
        elif "/" in deepest:
            score += 6
            reasons.append({"code": "ipc_symbol", "value": deepest})
        elif deepest != sub:
            score += 5
            reasons.append({"code": "ipc_group", "value": deepest})
        else:
            score += 3
            reasons.append({"code": "ipc_subclass", "value": sub})
    return score, reasons


def rank(want, cand: Candidate) -> Candidate:
    """Class and keyword relevance, territory, price against the budget → score and reasons."""
    score, reasons = class_reasons(want.class_keys, cand.class_keys)
    if cand.keyword_hits:
        score += 2 * len(cand.keyword_hits)
        reasons.append({"code": "keywords", "n": len(cand.keyword_hits), "words": cand.keyword_hits[:5]})
    if want.territories and cand.jurisdiction:
        if cand.jurisdiction in want.territories:
            score += 1.5
            reasons.append({"code": "territory", "value": cand.jurisdiction})
        else:
            score -= 1
    if cand.price_minor is not None and cand.currency == want.currency:
        low, high = want.budget_min_minor, want.budget_max_minor
        if (low is None or cand.price_minor >= low) and (high is None or cand.price_minor <= high):
            if low is not None or high is not None:
                score += 2
                reasons.append({"code": "budget", "price": cand.price_minor, "currency": cand.currency})
        elif high is not None and cand.price_minor > high:
            over = (cand.price_minor - high) / max(high, 1)
            score -= 1 if over > 0.2 else 0
            reasons.append({"code": "over_budget", "percent": round(over * 100)})
    cand.score, cand.reasons = round(score, 2), reasons
    return cand


def explain(reasons: list[dict]) -> str:
    """"same IPC subclass H01M, 3 keywords (battery, 电池, …), in CN, price within budget"."""
    parts = []
    for r in reasons or []:
        code = r.get("code")
        if code == "ipc_subclass":
            parts.append(_("same IPC subclass %(v)s") % {"v": r["value"]})
        elif code == "ipc_group":
            parts.append(_("same IPC group %(v)s") % {"v": _pretty(r["value"])})
        elif code == "ipc_symbol":
            parts.append(_("same IPC symbol %(v)s") % {"v": _pretty(r["value"])})
        elif code == "nice_class":
            parts.append(_("same Nice class %(v)s") % {"v": r["value"]})
        elif code == "keywords":
            words = pgettext("list of words", ", ").join(w.rstrip(":*") for w in r.get("words", []))
            parts.append(_("%(n)s keywords (%(words)s)") % {"n": r["n"], "words": words} if r["n"] != 1
                         else _("1 keyword (%(words)s)") % {"words": words})
        elif code == "territory":
            parts.append(_("in %(v)s") % {"v": r["value"]})
        elif code == "budget":
            parts.append(_("%(price)s, within budget") % {"price": format_money(r["price"], r["currency"])})
        elif code == "over_budget":
            parts.append(_("%(p)s%% over budget") % {"p": r["percent"]})
    return pgettext("list of reasons", ", ").join(parts)


def _pretty(symbol: str) -> str:
    m = re.match(r"^([A-HY]\d{2}[A-Z])(.*)$", symbol)
    return f"{m.group(1)} {m.group(2)}" if m and m.group(2) else symbol


# --- want → listings ------------------------------------------------------------------------------

def _keyword_hit_sql(words: list[Keyword], column: str) -> tuple[str, list]:
    """SQL array of the keywords (as typed) whose query the document matches."""
    if not words:
        return "ARRAY[]::text[]", []
    cases = " , ".join(f"CASE WHEN {column} @@ to_tsquery('simple', %s) THEN %s END" for _k in words)
    params: list = []
    for k in words:
        params += [k.query, k.word]
    return f"array_remove(ARRAY[{cases}]::text[], NULL)", params


def _candidate_pools(select: str, where: str, base_params: list, document: str, deep, broad,
                     words_query: str, select_params: list | None = None,
                     words_only: str | None = None, common_words: bool = False) -> tuple[list[str], list]:
    """The bounded candidate pools of a match, both ways (wants for a listing, listings for a want): one
    GIN look-up per pool. The search document carries each class key as a lexeme
    (listings.search.class_token), so "shares the subclass and a keyword" is one tsquery AND."""
    parts: list[str] = []
    params: list = []

    def pool(query: str, limit: int, filter_query: str = ""):
        also = f" AND coalesce({document} @@ to_tsquery('simple', %s), false)" if filter_query else ""
        parts.append(f"({select} WHERE {where} AND {document} @@ to_tsquery('simple', %s){also} "  # noqa: S608
                     f"LIMIT {int(limit)})")  # (our own fragments; values are parameters)
        params.extend([*(select_params or []), *base_params, query, *([filter_query] if filter_query else [])])

    broad_q = _classes_query(broad)
    if deep:
        pool(_classes_query(deep), POOL_DEEP)
    if broad and words_query and common_words:
        # Common words: look the class up in the index and test the words on its rows (they are common, so
        # 250 are met soon); as one GIN AND, a common class and common words made a bitmap of every row
        # having both (42,594 rows, 135 ms at 1M listings).
        pool(broad_q, POOL_BOTH_WALKED, filter_query=words_query)
    elif broad and words_query:
        pool(f"({broad_q}) & ({words_query})", POOL_BOTH)
    words_only = words_query if words_only is None else words_only
    if words_only:
        pool(words_only, POOL_WORDS)
    if broad:
        pool(broad_q, POOL_BROAD)
    return parts, params


def _fetch(sql: str, params: list) -> list[tuple]:
    """Run a candidate query with sequential scans disfavoured: each bounded part has a LIMIT, and with it
    the planner likes to walk the table hoping to meet enough rows early, which on a large exchange reads
    most of it (measured: 550 ms instead of a few ms through the GIN indexes)."""
    with transaction.atomic(), connection.cursor() as cursor:
        # The bounded parts are cheap, but a common keyword makes the planner's estimate exceed
        # jit_above_cost and compiling the plan then took ~250 ms of a ~300 ms match (EXPLAIN ANALYZE, 1M
        # listings). Both settings in one round trip.
        cursor.execute("SET LOCAL enable_seqscan = off; SET LOCAL jit = off")
        cursor.execute(sql, params)
        return cursor.fetchall()


def _classes_query(keys: list[str]) -> str:
    """'H01M', 'H01M4/13' → "'xch01m' | 'xch01m413'" (the class lexemes of the search documents)."""
    return " | ".join(f"'{class_token(k)}'" for k in keys)


def _split_keys(keys: list[str]) -> tuple[list[str], list[str]]:
    """(deep keys: IPC groups and symbols, rare; broad keys: subclasses and Nice classes, common)."""
    deep = [k for k in keys if len(k) > 4 and not k.isdigit()]
    broad = [k for k in keys if len(k) <= 4 or k.isdigit()]
    return deep, broad


def listing_source(want) -> list[Candidate]:
    """Published listings of the want's exchange that share a class or a keyword with it.

    Candidates come from bounded GIN look-ups, so a broad subclass with tens of thousands of listings
    costs no more than a rare one: listings sharing a group or symbol (up to POOL_DEEP), those sharing
    the subclass *and* a keyword (POOL_BOTH), then keyword-only and subclass-only ones (POOL_WORDS,
    POOL_BROAD). Each look-up reads the columns the ranking needs and the keyword hits while it has the
    row (one heap visit per candidate, no join back); the union is ranked in SQL (classes ×3, keywords ×2)
    and the best `CANDIDATES` go to `rank`. One round trip."""
    words = keywords(want.keywords or want.title)
    keys = list(want.class_keys)
    if not words and not keys:
        return []
    deep, broad = _split_keys(keys)
    base = ["l.tenant_id = %s", "l.state = 'published'", "l.seller_org_id <> %s"]
    base_params: list = [want.tenant_id, want.buyer_org_id]
    if want.kinds:
        base.append("l.kind = ANY(%s)")
        base_params.append(list(want.kinds))
    deals = _deal_filter(want.deal_type)
    if deals:
        base.append("l.deal_type = ANY(%s)")
        base_params.append(deals)
    where = " AND ".join(base)
    hits_sql, hits_params = _keyword_hit_sql(words, "l.search_document")
    select = (f"SELECT l.id, l.seller_org_id, l.title, l.class_keys, l.kind, l.jurisdiction, l.price_minor, "  # noqa: S608
              f"l.currency, l.published_at, {hits_sql} AS hits, "
              f"cardinality(ARRAY(SELECT unnest(l.class_keys) INTERSECT SELECT unnest(%s::varchar(20)[]))) AS ch "
              f"FROM listings_listing l")
    shares = _lexeme_shares("listings_listing") if words else {}
    rare = [k for k in words if _share(k, shares) <= COMMON_SHARE]
    common = [k for k in words if _share(k, shares) > COMMON_SHARE]
    parts, params = _candidate_pools(select, where, base_params, "l.search_document", deep, broad,
                                     _tsquery_any(words), select_params=[*hits_params, keys],
                                     words_only=_tsquery_any(rare), common_words=bool(common))
    if common:  # common keywords: walk the exchange's listings (no GIN bitmap of every row having them)
        parts.append(f"({select} WHERE {where} AND coalesce(l.search_document @@ to_tsquery('simple', %s), false) "
                     f"LIMIT {POOL_WORDS})")
        params.extend([*hits_params, keys, *base_params, _tsquery_any(common)])
    sql = f"""
        SELECT DISTINCT ON (ch * 3 + cardinality(hits) * 2, published_at, id)
               id, seller_org_id, title, class_keys, kind, jurisdiction, price_minor, currency, hits
        FROM ({" UNION ALL ".join(parts)}) c
        ORDER BY ch * 3 + cardinality(hits) * 2 DESC, published_at DESC, id DESC LIMIT {CANDIDATES}
    """  # noqa: S608 (only our own fragments are formatted in; values are parameters)
    rows = _fetch(sql, params)
    return [Candidate(source="listing", listing_id=r[0], holder_org_id=r[1], title=r[2], class_keys=r[3] or [],
                      kind=r[4], jurisdiction=r[5], price_minor=r[6], currency=r[7], keyword_hits=list(r[8] or []))
            for r in rows]


LIVE_LISTING_STATES = ("draft", "submitted", "in_verification", "awaiting_margin", "published", "reserved")


def portfolio_source(want) -> list[Candidate]:
    """Rights held in portfolios, not for sale, whose holders opened them to buyers' wants
    (`rights.Holding.open_to_wants`): those sharing a subclass/Nice class or a word with the want. A
    right already in a live listing is matched as that listing instead."""
    from listings.models import Right
    from rights.wants import holdings_open_to_wants

    words = keywords(want.keywords or want.title)
    terms = [k.word for k in words if len(k.word) >= 2]
    rows = holdings_open_to_wants(keys=list(want.class_keys), words=terms, kinds=list(want.kinds),
                                  exclude_org_id=want.buyer_org_id)
    if not rows:
        return []
    listed = set(Right.objects.filter(register_record_id__in=[r.record_id for r in rows],
                                      listing__state__in=LIVE_LISTING_STATES)
                 .values_list("register_record_id", flat=True))
    out = []
    for r in rows:
        if r.record_id in listed:
            continue
        hits = [k.word for k in words if k.word in r.text]
        out.append(Candidate(source="portfolio", holder_org_id=r.organization_id, title=r.title,
                             class_keys=r.class_keys, kind=r.kind, jurisdiction=r.jurisdiction,
                             keyword_hits=hits, record_key=f"holding:{r.holding_id}"))
    return out


SOURCES = [listing_source, portfolio_source]


def want_candidates(want, *, keep: int = KEEP) -> list[Candidate]:
    ranked = [rank(want, c) for source in SOURCES for c in source(want)]
    ranked = [c for c in ranked if c.score > 0]
    ranked.sort(key=lambda c: (-c.score, -(c.listing_id or 0)))
    return ranked[:keep]


# --- listing → wants ------------------------------------------------------------------------------

_LEXEME = re.compile(r"'((?:[^']|'')+)':([0-9A-D,]+)")


def _lexemes(document: str) -> tuple[set[str], list[str]]:
    """All lexemes of a tsvector's text, and those of the title (weight A) and owner/tags (B)."""
    every, title = set(), []
    for word, positions in _LEXEME.findall(document or ""):
        word = word.replace("''", "'")
        if word.startswith("xc"):
            continue
        every.add(word)
        if ("A" in positions or "B" in positions) and word not in title:
            title.append(word)
    return every, title


def _hits(words: list[Keyword], lexemes: set[str]) -> list[str]:
    """The keywords (as typed) all of whose parts are among a document's lexemes ("battery:*" a prefix)."""
    def has(term: str) -> bool:
        if term.endswith(":*"):
            return any(lx.startswith(term[:-2]) for lx in lexemes)
        return term in lexemes

    return [k.word for k in words if all(has(t) for t in k.lexemes)]


def _want_ids(*, tenant_id, keys: list[str], words: list[str], exclude_org_id, kind: str = "",
              deal: str | None = None) -> list[int]:
    """Open wants (deadline not passed) sharing a class key or a word with something offered, best
    `CANDIDATES` by class overlap: bounded GIN look-ups on the wants' search documents, as for listings."""
    base = ["w.tenant_id = %s", "w.state = 'open'", "w.deadline >= %s", "w.buyer_org_id <> %s"]
    base_params: list = [tenant_id, timezone.localdate(), exclude_org_id]
    if deal is not None:
        base.append("w.deal_type IN ('any', %s)")
        base_params.append(deal)
    if kind:
        base.append("(cardinality(w.kinds) = 0 OR %s = ANY(w.kinds))")
        base_params.append(kind)
    where = " AND ".join(base)
    deep, broad = _split_keys(keys)
    parts, params = _candidate_pools("SELECT w.id FROM demand_want w", where, base_params, "w.search_document",
                                     deep, broad, " | ".join(f"'{w}'" for w in words))
    if not parts:
        return []
    sql = f"""
        WITH c AS ({" UNION ".join(parts)})
        SELECT w.id FROM demand_want w JOIN c ON c.id = w.id
        ORDER BY cardinality(ARRAY(SELECT unnest(w.class_keys) INTERSECT SELECT unnest(%s::varchar(20)[]))) DESC,
                 w.created_at DESC LIMIT {CANDIDATES}
    """  # noqa: S608 (only our own fragments are formatted in; values are parameters)
    return [r[0] for r in _fetch(sql, [*params, keys])]


def _ranked_wants(ids, make_candidate, lexemes, keep) -> list[tuple[object, Candidate]]:
    from .models import Want

    out = []
    for want in Want.objects.filter(pk__in=ids).defer("search_document", "description"):
        cand = make_candidate(want)
        cand.keyword_hits = _hits(keywords(want.keywords or want.title), lexemes)
        rank(want, cand)
        if cand.score > 0:
            out.append((want, cand))
    out.sort(key=lambda wc: (-wc[1].score, -wc[0].pk))
    return out[:keep]


def _words(title_words: list[str]) -> list[str]:
    return [w.replace("\\", "").replace("'", "") for w in title_words if len(w) >= 2][:40]


def listing_candidates(listing, *, keep: int = KEEP) -> list[tuple[object, Candidate]]:
    """Open wants (deadline not passed) that share a class or a title word with `listing`, ranked.
    Returns [(want, candidate)]."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT search_document::text FROM listings_listing WHERE id = %s", [listing.pk])
        row = cursor.fetchone()
    lexemes, title_words = _lexemes(row[0] if row else "")
    listing_keys = [k for k in (listing.class_keys or []) if len(k) >= 4 or k.isdigit()]
    ids = _want_ids(tenant_id=listing.tenant_id, keys=listing_keys, words=_words(title_words),
                    exclude_org_id=listing.seller_org_id, kind=listing.kind,
                    deal="assignment" if listing.deal_type == "assignment" else "licence")

    def make(want):
        return Candidate(source="listing", listing_id=listing.pk, holder_org_id=listing.seller_org_id,
                         title=listing.title, class_keys=listing.class_keys or [], kind=listing.kind,
                         jurisdiction=listing.jurisdiction, price_minor=listing.price_minor,
                         currency=listing.currency, want_id=want.pk)

    return _ranked_wants(ids, make, lexemes, keep)


def open_right_candidates(right, *, tenant_id, keep: int = KEEP) -> list[tuple[object, Candidate]]:
    """Open wants matching a right its holder just opened to wants (`rights.wants.OpenRight`): the other
    direction of `portfolio_source`. Any deal type (the holder has not said how they would part with it)."""
    from listings.search_text import document_text

    with connection.cursor() as cursor:
        cursor.execute("SELECT (setweight(to_tsvector('simple', %s), 'A') || to_tsvector('simple', %s))::text",
                       [document_text(right.title), document_text(right.text[:2000])])
        row = cursor.fetchone()
    lexemes, title_words = _lexemes(row[0] if row else "")
    keys = [k for k in right.class_keys if len(k) >= 4 or k.isdigit()]
    ids = _want_ids(tenant_id=tenant_id, keys=keys, words=_words(title_words), exclude_org_id=right.organization_id,
                    kind=right.kind)

    def make(want):
        return Candidate(source="portfolio", holder_org_id=right.organization_id, title=right.title,
                         class_keys=right.class_keys, kind=right.kind, jurisdiction=right.jurisdiction,
                         record_key=f"holding:{right.holding_id}", want_id=want.pk)

    return _ranked_wants(ids, make, lexemes, keep)
