"""Text for the search document: PostgreSQL's 'simple' configuration does not split Chinese, so Chinese
runs are written as overlapping character bigrams ("无线充电" -> "无线 线充 充电"); a query is split the
same way and every bigram must match. Latin words stay words (matched by prefix)."""

import re

CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RUN = re.compile(f"[{CJK}]+")
CJK_RUN_RE = _CJK_RUN
_TOKEN = re.compile(f"[{CJK}]+|[0-9A-Za-z]+")


def cjk_bigrams(run: str) -> list[str]:
    if len(run) == 1:
        return [run]
    return [run[i:i + 2] for i in range(len(run) - 1)]


def document_text(*parts: str) -> str:
    """Words and bigrams of `parts`, space separated, for to_tsvector('simple', ...)."""
    out = []
    for part in parts:
        for token in _TOKEN.findall(part or ""):
            if _CJK_RUN.fullmatch(token):
                out.extend(cjk_bigrams(token))
            else:
                out.append(token.lower())
    return " ".join(out)


def query_terms(text: str) -> list[str]:
    """tsquery lexemes (already escaped) for what a person typed; all must match."""
    terms = []
    for token in _TOKEN.findall(text or ""):
        if _CJK_RUN.fullmatch(token):
            if len(token) == 1:
                terms.append(f"{token}:*")
            else:
                terms.extend(cjk_bigrams(token))
        else:
            terms.append(f"{token.lower()}:*")
    seen, unique = set(), []
    for t in terms:
        if t not in seen:
            seen.add(t)
            unique.append(t)
    return unique[:16]


def tsquery(text: str) -> str:
    """A to_tsquery('simple', ...) expression, or '' when nothing searchable was typed."""
    return " & ".join(query_terms(text))
