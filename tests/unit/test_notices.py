from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from murur.notices import (
    SEGMENT_BUDGET,
    NoticeFacts,
    count_segments,
    is_e164,
    language_of,
    render_notice,
)
from murur.workflow import ViolationType

ARABIC = re.compile(r"[\u0600-\u06FF]")


def facts(place: str = "Carrefour Madrid, Avenue Gamal Abdel Nasser", **changes) -> NoticeFacts:
    values = dict(reference="MR26-7KQ2M9XA4P", violation_type=ViolationType.SPEEDING, place=place,
                  captured_at=datetime(2026, 11, 28, 9, 30, 12, tzinfo=UTC), amount_mru=15000,
                  deadline_at=datetime(2026, 12, 28, 9, 31, tzinfo=UTC), portal_url="https://khidmati.gov.mr/murur",
                  measured_speed_kmh=187, speed_limit_kmh=60)
    return NoticeFacts(**(values | changes))


# ------------------------------------------------------------------ segments
@pytest.mark.parametrize(("text", "encoding", "segments"), [
    ("a" * 160, "GSM-7", 1),
    ("a" * 161, "GSM-7", 2),
    ("a" * 306, "GSM-7", 2),
    ("a" * 307, "GSM-7", 3),
    ("é à è ù ì ò Ç Ø Å Ä Ö Ñ Ü ß @ £ $", "GSM-7", 1),
    ("€" * 80, "GSM-7", 1),  # extension characters take two septets: 160
    ("€" * 81, "GSM-7", 2),
    ("ê", "UCS-2", 1),  # not in the GSM alphabet: the whole message goes UCS-2
    ("م" * 70, "UCS-2", 1),
    ("م" * 71, "UCS-2", 2),
    ("م" * 134, "UCS-2", 2),
    ("م" * 135, "UCS-2", 3),
    ("😀" * 35, "UCS-2", 1),  # outside the BMP: two UTF-16 units each
    ("😀" * 36, "UCS-2", 2),
])
def test_segments_are_counted_as_carriers_count_them(text: str, encoding: str, segments: int) -> None:
    count = count_segments(text)
    assert (count.encoding, count.segments) == (encoding, segments)


# ------------------------------------------------------------------ notices
@pytest.mark.parametrize("language", ["ar", "fr"])
def test_the_notice_says_what_where_when_how_much_by_when_and_how_to_pay_or_object(language: str) -> None:
    notice = render_notice(facts(), language)
    text = notice.text
    assert notice.language == language
    assert text.count("MR26-7KQ2M9XA4P") >= 1
    for expected in ("187", "60", "28/11/2026 09:30", "15 000", "28/12/2026", "Bankily", "Masrvi", "Sedad",
                     "khidmati.gov.mr/murur", "Carrefour Madrid"):
        assert expected in text, expected
    assert bool(ARABIC.search(text)) is (language == "ar")
    assert notice.segments.segments <= SEGMENT_BUDGET[language]


def test_arabic_is_ucs2_and_french_stays_in_the_gsm_alphabet() -> None:
    assert render_notice(facts(), "ar").segments.encoding == "UCS-2"
    assert render_notice(facts(), "fr").segments.encoding == "GSM-7"


@pytest.mark.parametrize("language", ["ar", "fr"])
@pytest.mark.parametrize("long_place", [
    "Carrefour de la Polyclinique, Avenue du Général de Gaulle prolongée, Tevragh Zeina, Nouakchott Ouest",
    "Carrefour Madrid, entrée de la forêt, شارع جمال عبد الناصر",  # not all GSM-7: must not push French to UCS-2
])
def test_a_long_place_name_is_shortened_to_stay_within_the_budget(language: str, long_place: str) -> None:
    notice = render_notice(facts(place=long_place), language)
    assert notice.segments.segments <= SEGMENT_BUDGET[language]
    assert "Carrefour" in notice.text and "MR26-7KQ2M9XA4P" in notice.text and "khidmati" in notice.text


@pytest.mark.parametrize("violation_type", list(ViolationType))
@pytest.mark.parametrize("language", ["ar", "fr"])
def test_every_offence_has_words_in_both_languages(violation_type: ViolationType, language: str) -> None:
    notice = render_notice(facts(violation_type=violation_type, measured_speed_kmh=None, speed_limit_kmh=None), language)
    assert notice.segments.segments <= SEGMENT_BUDGET[language]
    assert "$" not in notice.text  # every placeholder was filled


def test_an_unknown_language_falls_back_to_arabic() -> None:
    assert language_of(None) == "ar" and language_of("en") == "ar" and language_of("fr") == "fr"
    assert render_notice(facts(), "wo").language == "ar"


# ------------------------------------------------------------------ phone numbers
@pytest.mark.parametrize(("number", "valid"), [
    ("+22236123456", True), ("+22246234567", True), ("+22222345678", True),
    ("+22256123456", False),  # not a Mauritanian mobile prefix
    ("+2223612345", False), ("+222361234567", False),
    ("22236123456", False), ("0036123456", False), ("+222 36 12 34 56", False), ("", False),
    ("+33612345678", True),  # a foreign mobile number is still E.164
    ("+0123456789", False),
])
def test_phone_numbers_must_be_e164_and_mauritanian_ones_mobile(number: str, valid: bool) -> None:
    assert is_e164(number) is valid
