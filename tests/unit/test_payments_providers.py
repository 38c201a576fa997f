"""Each wallet's webhook body mapped to the one PaymentNotice, and refused with field names only."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from murur.payments.errors import InvalidNotice, MalformedJson, UnknownProvider
from murur.payments.notice import PaymentNotice, Provider, mauritanian_e164, payment_id_for
from murur.payments.providers import parse_notice, provider_named

PAID_AT = datetime(2026, 11, 29, 9, 30, tzinfo=UTC)
EXPECTED = {"violation_reference": "MR26-7KQ2M9XA4B", "amount_mru": 4000, "paid_at": PAID_AT,
            "payer_phone": "+22234567890"}

BODIES = {
    Provider.BANKILY: {"transactionId": "BK-20261129-0001", "reference": "MR26-7KQ2M9XA4B", "amount": 4000,
                       "currency": "MRU", "paidAt": "2026-11-29T09:30:00Z", "payer": {"msisdn": "22234567890"},
                       "channel": "app"},
    Provider.MASRVI: {"txn_ref": "MSV.88172", "merchant_ref": "mr26-7kq2 m9xa4b", "amount_mru": "4000",
                      "timestamp": int(PAID_AT.timestamp()), "customer_phone": "34567890"},
    Provider.SEDAD: {"operation_id": "SDD:55", "invoice_number": "MR26-7KQ2M9XA4B", "total": "4000.00",
                     "currency": "MRU", "operation_date": "2026-11-29T09:30:00+00:00", "phone": "+22234567890"},
}


def _bytes(document: object) -> bytes:
    return json.dumps(document).encode()


@pytest.mark.parametrize("provider", list(Provider))
def test_each_adapter_maps_its_body_to_the_same_notice(provider: Provider) -> None:
    notice = parse_notice(provider, _bytes(BODIES[provider]))
    assert isinstance(notice, PaymentNotice)
    assert notice.provider is provider
    assert notice.model_dump(include=set(EXPECTED)) == EXPECTED
    assert notice.paid_at.tzinfo == UTC
    assert notice.payment_id == payment_id_for(provider, notice.provider_transaction_id)


def test_a_reference_is_compared_without_case_or_spaces() -> None:
    assert parse_notice(Provider.MASRVI, _bytes(BODIES[Provider.MASRVI])).violation_reference == "MR26-7KQ2M9XA4B"


def test_local_times_become_utc() -> None:
    body = BODIES[Provider.SEDAD] | {"operation_date": "2026-11-29T10:30:00+01:00"}
    assert parse_notice(Provider.SEDAD, _bytes(body)).paid_at == PAID_AT


@pytest.mark.parametrize(("number", "e164"), [("34567890", "+22234567890"), ("22234567890", "+22234567890"),
                                              ("0022234567890", "+22234567890"), ("+222 34 56 78 90", "+22234567890"),
                                              ("+33612345678", "+33612345678")])
def test_payer_numbers_become_e164(number: str, e164: str) -> None:
    assert mauritanian_e164(number) == e164


@pytest.mark.parametrize(("provider", "change", "field"), [
    (Provider.BANKILY, {"amount": "4000"}, "amount"),  # a string where the format says integer
    (Provider.BANKILY, {"amount": 0}, "amount_mru"),
    (Provider.BANKILY, {"currency": "EUR"}, "currency"),
    (Provider.BANKILY, {"paidAt": "2026-11-29T09:30:00"}, "paidAt"),  # no offset: ambiguous
    (Provider.BANKILY, {"payer": {"msisdn": "hello-world"}}, "payer_phone"),
    (Provider.MASRVI, {"amount_mru": "4000.5"}, "amount_mru"),
    (Provider.MASRVI, {"txn_ref": "has space"}, "provider_transaction_id"),
    (Provider.SEDAD, {"total": "4000.50"}, "total"),  # fines are whole MRU
    (Provider.SEDAD, {"total": 4000.0}, "total"),  # a JSON number could round
])
def test_invalid_fields_are_named_without_their_values(provider: Provider, change: dict, field: str) -> None:
    with pytest.raises(InvalidNotice) as refused:
        parse_notice(provider, _bytes(BODIES[provider] | change))
    assert refused.value.status == 422
    fields = [detail["field"] for detail in refused.value.details or []]
    assert any(name.split(".")[0] == field for name in fields), fields
    assert "34567890" not in json.dumps(refused.value.body())


def test_a_missing_field_is_named() -> None:
    body = dict(BODIES[Provider.BANKILY])
    del body["reference"]
    with pytest.raises(InvalidNotice) as refused:
        parse_notice(Provider.BANKILY, _bytes(body))
    assert {"field": "reference", "type": "missing"} in (refused.value.details or [])


@pytest.mark.parametrize("body", [b"{not json", b"", b"\xff\xfe", b"[1, 2]", b'"text"'])
def test_a_body_that_is_not_a_json_object_is_malformed(body: bytes) -> None:
    with pytest.raises(MalformedJson) as refused:
        parse_notice(Provider.BANKILY, body)
    assert refused.value.status == 400


def test_an_unknown_provider_is_404() -> None:
    assert provider_named("sedad") is Provider.SEDAD
    with pytest.raises(UnknownProvider) as refused:
        provider_named("paypal")
    assert refused.value.status == 404
