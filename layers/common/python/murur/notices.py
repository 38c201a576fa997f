"""The owner's SMS notice, in Arabic or French, and what it costs in SMS segments.

Templates are files (templates/{kind}_{language}.txt, string.Template placeholders) so wording can be
changed without touching code: `sms` is the notice Notify sends, `reminder` the one reminder before the
deadline (murur.deadlines). Each language has a segment budget; the place name is shortened
when needed so the notice never exceeds it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from importlib.resources import files
from string import Template
from typing import Literal

from murur.workflow import ViolationType

Language = Literal["ar", "fr"]
LANGUAGES: tuple[Language, ...] = ("ar", "fr")
DEFAULT_LANGUAGE: Language = "ar"

# Arabic is sent as UCS-2: 70 characters in one SMS, 67 per part once concatenated. Three parts keep
# the notice to one screen and a bounded cost; French fits the GSM-7 alphabet (153 per part).
SEGMENT_BUDGET: dict[Language, int] = {"ar": 3, "fr": 2}
# "…" is not in the GSM alphabet: in French it would turn the whole message into UCS-2.
_ELLIPSIS: dict[Language, str] = {"ar": "…", "fr": "..."}

# Mauritania keeps GMT all year (no daylight saving), so local time is UTC.
MAURITANIA_TIME = timezone(timedelta(0), "GMT")

# GSM 03.38: the default alphabet and the extension table (each extension character takes two septets).
# Hand-written because no maintained Python library counts SMS segments; the table is fixed by the standard.
_GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENSION = "^{}\\[~]|€\f"

_E164 = re.compile(r"^\+[1-9]\d{7,14}$")
# +222, then 8 digits; mobile numbers start with 2 (Chinguitel), 3 (Mattel) or 4 (Mauritel).
_MAURITANIAN_MOBILE = re.compile(r"^\+222[234]\d{7}$")

_OFFENCES: dict[Language, dict[ViolationType, str]] = {
    "ar": {
        ViolationType.SPEEDING: "سرعة",
        ViolationType.RED_LIGHT: "تجاوز الضوء الأحمر",
        ViolationType.NO_SEATBELT: "عدم ربط الحزام",
        ViolationType.PHONE_WHILE_DRIVING: "الهاتف أثناء السياقة",
        ViolationType.WRONG_WAY: "السير في الاتجاه الممنوع",
        ViolationType.BUS_LANE: "السير في ممر الحافلات",
        ViolationType.STOP_LINE: "تجاوز خط التوقف",
        ViolationType.SECTION_SPEEDING: "سرعة متوسطة",
    },
    "fr": {
        ViolationType.SPEEDING: "excès de vitesse",
        ViolationType.RED_LIGHT: "feu rouge grillé",
        ViolationType.NO_SEATBELT: "défaut de ceinture",
        ViolationType.PHONE_WHILE_DRIVING: "téléphone au volant",
        ViolationType.WRONG_WAY: "sens interdit",
        ViolationType.BUS_LANE: "voie des bus",
        ViolationType.STOP_LINE: "ligne de stop franchie",
        ViolationType.SECTION_SPEEDING: "vitesse moyenne",
    },
}
_SPEEDS: dict[Language, str] = {"ar": "{measured:g} كم/س والحد {limit:g}", "fr": "{measured:g} km/h pour {limit:g}"}


@dataclass(frozen=True)
class SegmentCount:
    encoding: Literal["GSM-7", "UCS-2"]
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int


def count_segments(text: str) -> SegmentCount:
    if all(c in _GSM7_BASIC or c in _GSM7_EXTENSION for c in text):
        septets = sum(2 if c in _GSM7_EXTENSION else 1 for c in text)
        return SegmentCount("GSM-7", septets, 1 if septets <= 160 else math.ceil(septets / 153))
    units = sum(2 if ord(c) > 0xFFFF else 1 for c in text)
    return SegmentCount("UCS-2", units, 1 if units <= 70 else math.ceil(units / 67))


def is_e164(number: str) -> bool:
    """E.164, and for Mauritanian numbers (+222) a mobile number that can receive an SMS."""
    if not _E164.match(number):
        return False
    return not number.startswith("+222") or bool(_MAURITANIAN_MOBILE.match(number))


def language_of(value: str | None) -> Language:
    return value if value in LANGUAGES else DEFAULT_LANGUAGE  # type: ignore[return-value]


@dataclass(frozen=True)
class NoticeFacts:
    """What the notice says; built from the violation record."""

    reference: str
    violation_type: ViolationType
    place: str
    captured_at: datetime
    amount_mru: int
    deadline_at: datetime
    portal_url: str
    measured_speed_kmh: float | None = None
    speed_limit_kmh: float | None = None


@dataclass(frozen=True)
class Notice:
    language: Language
    text: str
    segments: SegmentCount


# ruling_*: an officer's ruling on the owner's objection (murur.objections).
NoticeKind = Literal["sms", "reminder", "ruling_upheld", "ruling_cancelled"]


def _template(language: Language, kind: NoticeKind) -> Template:
    return Template(files("murur").joinpath(f"templates/{kind}_{language}.txt").read_text(encoding="utf-8").strip())


def offence(language: Language, facts: NoticeFacts) -> str:
    name = _OFFENCES[language][facts.violation_type]
    speed_offences = (ViolationType.SPEEDING, ViolationType.SECTION_SPEEDING)
    if facts.violation_type in speed_offences and facts.measured_speed_kmh and facts.speed_limit_kmh:
        speeds = _SPEEDS[language].format(measured=facts.measured_speed_kmh, limit=facts.speed_limit_kmh)
        return f"{name} {speeds}"
    return name


class NoticeTooLong(ValueError):
    """Even without the place name the notice exceeds its segment budget: the template needs shortening."""


def render_notice(facts: NoticeFacts, language: str | None, kind: NoticeKind = "sms") -> Notice:
    chosen = language_of(language)
    template = _template(chosen, kind)
    values = {
        "reference": facts.reference,
        "offence": offence(chosen, facts),
        "time": f"{facts.captured_at.astimezone(MAURITANIA_TIME):%d/%m/%Y %H:%M}",
        "amount": f"{facts.amount_mru:,}".replace(",", " "),
        "deadline": f"{facts.deadline_at.astimezone(MAURITANIA_TIME):%d/%m/%Y}",
        "portal": re.sub(r"^https?://", "", facts.portal_url).rstrip("/"),
    }
    place = " ".join(facts.place.split())
    # Shorten the place, a word at a time, until the notice fits its budget.
    while True:
        text = template.substitute(values, place=place)
        segments = count_segments(text)
        if segments.segments <= SEGMENT_BUDGET[chosen]:
            return Notice(chosen, text, segments)
        if not place:
            raise NoticeTooLong(f"the {chosen} notice needs {segments.segments} segments without a place name")
        words = place.removesuffix(_ELLIPSIS[chosen]).split()
        place = " ".join(words[:-1]) + _ELLIPSIS[chosen] if len(words) > 1 else ""
