"""The industries listings are tagged with: known tags are shown in the reader's language, whichever
language the seller typed them in ("新能源" on an English page reads "New energy"); other tags as typed."""

from django.utils.translation import gettext
from django.utils.translation import gettext_noop as N_

# (Chinese as sellers type it, English source text; the zh_Hans catalogue maps the English back)
INDUSTRIES = [
    ("新能源", N_("New energy")), ("新能源汽车", N_("New-energy vehicles")), ("智能制造", N_("Smart manufacturing")),
    ("消费电子", N_("Consumer electronics")), ("品牌", N_("Brands")), ("农业", N_("Agriculture")),
    ("出行", N_("Mobility")), ("文创", N_("Creative industries")), ("新材料", N_("New materials")),
    ("无人机", N_("Drones")), ("智能交通", N_("Intelligent transport")), ("智能家居", N_("Smart home")),
    ("消费品", N_("Consumer goods")), ("物流", N_("Logistics")), ("物联网", N_("Internet of things")),
    ("生物医药", N_("Biomedicine")), ("节能环保", N_("Energy saving and environment")), ("金融科技", N_("Fintech")),
]
_BY_TEXT = {k: en for zh, en in INDUSTRIES for k in (zh, en.lower())}


def tag_label(tag: str) -> str:
    text = (tag or "").strip()
    known = _BY_TEXT.get(text) or _BY_TEXT.get(text.lower())
    return gettext(known) if known else tag
