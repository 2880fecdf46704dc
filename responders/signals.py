"""Phrases that raise a mention's priority or mark it invalid, in English and Chinese.

This is data: extend the lists, do not add branches. Each entry is a regular
expression searched case-insensitively in the mention text.
"""

from __future__ import annotations

from voxwatch.i18n import N_  # signal names are shown as reasons, in the reader's language

PRIORITY_SIGNALS: dict[str, tuple[str, ...]] = {
    N_("threat to go public"): (
        r"\b(post|share|put) (this|it) (everywhere|on every|all over)",
        r"\b(tell|telling|warn) (everyone|everybody|all my)",
        r"\b(go(ing)?|went) (to|public with)( the)? (press|media|news|public)",
        r"\b(journalist|reporter|newspaper|consumer (watchdog|council))",
        r"\bgoing viral\b",
        r"曝光",
        r"媒体",
        r"发到网上",
        r"让大家都知道",
        r"记者",
        r"发微博",
    ),
    N_("demands a manager"): (
        r"\b(speak|talk) to (a|your|the) (manager|supervisor|boss)",
        r"\b(manager|supervisor|ceo|head office)\b",
        r"找(你们)?经理",
        r"叫(你们)?(经理|领导|主管)",
        r"你们领导",
    ),
    N_("repeat complaint (in text)"): (
        r"\b(second|third|fourth|fifth|2nd|3rd|4th|5th) time\b",
        r"\b(again and again|yet again|still not (fixed|resolved)|keep(s)? happening)\b",
        r"第[二三四五]次",
        r"又一次",
        r"还是没有?(解决|处理)",
        r"再次",
    ),
    N_("legal or safety words"): (
        r"\b(lawyer|lawsuit|sue|suing|legal action|court|attorney)\b",
        r"\b(food poisoning|allerg(y|ic)|injur(y|ed)|burn(ed|t)?|unsafe|hospital|glass in)\b",
        r"律师",
        r"起诉",
        r"法院",
        r"食物中毒",
        r"过敏",
        r"受伤",
        r"烫伤",
        r"住院",
        r"消协",
        r"12315",
    ),
}

INVALID_SIGNALS: dict[str, tuple[str, ...]] = {
    N_("spam: promotion or link bait"): (
        r"\b(buy|cheap|free) (followers|likes|crypto|bitcoin)",
        r"\b(click here|limited offer|dm me for|promo code|earn \$?\d+)",
        r"加(我)?微信",
        r"代购",
        r"刷单",
        r"兼职日结",
    ),
    N_("troll: mockery with no complaint to act on"): (
        r"\b(ratio|cope|seethe)\b.*\b(L|ratio|cope)\b",
        r"\bimagine (drinking|buying|using)\b.*\blol\b|\blol\b.*\bimagine (drinking|buying|using)\b",
        r"傻[逼叉]",
        r"脑残",
        r"水军",
    ),
    N_("competitor bait"): (
        r"\bswitch to [A-Z]\w+ (instead|today|now)\b",
        r"\b(use|try) (our|my) (app|shop|store) instead\b",
    ),
}

# A mention that asks something deserves an answer even when it is not negative.
QUESTION_PATTERNS: tuple[str, ...] = (
    r"\?",
    r"？",
    r"^\s*(does|do|is|are|can|could|how|what|when|where|why|which|will|who)\b",
    r"吗[。！!]?\s*$",
    r"(怎么|如何|哪里|什么时候|为什么|能不能|可不可以)",
)
