"""The receipt SMS: both languages, within the notices' segment budgets, long transaction ids shortened."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from murur.notices import SEGMENT_BUDGET
from murur.payments.notice import Provider
from murur.payments.receipts import ReceiptFacts, render_receipt

FACTS = ReceiptFacts(reference="MR26-7KQ2M9XA4B", provider=Provider.MASRVI, provider_transaction_id="MSV.88172",
                     amount_mru=12000, paid_at=datetime(2026, 11, 29, 9, 30, tzinfo=UTC),
                     portal_url="https://khidmati.gov.mr/murur")


@pytest.mark.parametrize("language", ["ar", "fr"])
def test_the_receipt_names_the_payment_in_the_owner_language(language: str) -> None:
    receipt = render_receipt(FACTS, language)
    assert receipt.language == language
    for fact in ("MR26-7KQ2M9XA4B", "Masrvi", "MSV.88172", "12 000", "29/11/2026 09:30", "khidmati.gov.mr/murur"):
        assert fact in receipt.text
    assert "$" not in receipt.text
    assert receipt.segments.segments <= SEGMENT_BUDGET[language]


def test_french_stays_in_the_gsm_alphabet_and_unknown_languages_fall_back_to_arabic() -> None:
    assert render_receipt(FACTS, "fr").segments.encoding == "GSM-7"
    assert render_receipt(FACTS, "en").language == "ar"
    assert render_receipt(FACTS, None).language == "ar"


def test_a_transaction_id_too_long_for_the_budget_keeps_its_end() -> None:
    long_id = "TX" + "0123456789" * 6 + "END42"
    facts = ReceiptFacts(**{**FACTS.__dict__, "provider_transaction_id": long_id})
    arabic = render_receipt(facts, "ar")  # UCS-2: 67 characters a part, the whole id does not fit
    assert arabic.segments.segments <= SEGMENT_BUDGET["ar"]
    assert "..." + long_id[-10:] in arabic.text
    assert long_id not in arabic.text
    french = render_receipt(facts, "fr")  # GSM-7 fits it whole
    assert long_id in french.text
    assert french.segments.segments <= SEGMENT_BUDGET["fr"]
