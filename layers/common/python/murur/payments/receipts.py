"""The payer's receipt SMS, in Arabic or French, from templates/receipt_{ar,fr}.txt.

Rendered like the violation notices (murur.notices: the same languages, local time, segment
counting and budgets); a receipt names the payment, not the offence, so it has its own values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from importlib.resources import files
from string import Template

from murur.notices import MAURITANIA_TIME, SEGMENT_BUDGET, Notice, NoticeTooLong, count_segments, language_of
from murur.payments.notice import Provider

PROVIDER_NAMES: dict[Provider, str] = {Provider.BANKILY: "Bankily", Provider.MASRVI: "Masrvi", Provider.SEDAD: "Sedad"}
# A transaction id too long for the budget keeps its end, the part wallets show their users.
_SHORT_TRANSACTION = 10


@dataclass(frozen=True)
class ReceiptFacts:
    reference: str
    provider: Provider
    provider_transaction_id: str
    amount_mru: int
    paid_at: datetime
    portal_url: str


def render_receipt(facts: ReceiptFacts, language: str | None) -> Notice:
    chosen = language_of(language)
    template = Template(files("murur").joinpath(f"templates/receipt_{chosen}.txt").read_text(encoding="utf-8").strip())
    values = {
        "reference": facts.reference,
        "provider": PROVIDER_NAMES[facts.provider],
        "amount": f"{facts.amount_mru:,}".replace(",", " "),
        "time": f"{facts.paid_at.astimezone(MAURITANIA_TIME):%d/%m/%Y %H:%M}",
        "portal": re.sub(r"^https?://", "", facts.portal_url).rstrip("/"),
    }
    transaction = facts.provider_transaction_id
    for shown in (transaction, "..." + transaction[-_SHORT_TRANSACTION:]):
        text = template.substitute(values, transaction=shown)
        segments = count_segments(text)
        if segments.segments <= SEGMENT_BUDGET[chosen]:
            return Notice(chosen, text, segments)
    raise NoticeTooLong(f"the {chosen} receipt needs {segments.segments} segments")
