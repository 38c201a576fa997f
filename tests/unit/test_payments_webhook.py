"""One delivery's checks, in their order, with stand-ins for the secrets and the payments; and the
secret's shapes read through Powertools parameters on moto."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import boto3
import pytest
from moto import mock_aws

from murur.payments.errors import (
    InvalidNotice,
    PayloadTooLarge,
    SignatureInvalid,
    UnknownProvider,
    WebhookNotConfigured,
)
from murur.payments.notice import PaymentNotice, Provider
from murur.payments.secrets import WebhookSecrets
from murur.payments.signature import signature_header
from murur.payments.webhook import MAX_BODY_BYTES, WebhookReceiver

SECRET = "k" * 40
NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
BODY = json.dumps({"transactionId": "BK-1", "reference": "MR26-7KQ2M9XA4B", "amount": 4000, "currency": "MRU",
                   "paidAt": "2026-11-29T08:59:00Z", "payer": {"msisdn": "22244998877"}}).encode()


class Secrets:
    def __init__(self) -> None:
        self.asked: list[Provider] = []

    def for_provider(self, provider: Provider) -> list[str]:
        self.asked.append(provider)
        return [SECRET]


class Payments:
    def __init__(self) -> None:
        self.received: list[PaymentNotice] = []

    def receive(self, notice: PaymentNotice) -> str:
        self.received.append(notice)
        return "recorded"


def receiver() -> tuple[WebhookReceiver, Secrets, Payments]:
    secrets, payments = Secrets(), Payments()
    return WebhookReceiver(secrets, payments, clock=lambda: NOW), secrets, payments  # type: ignore[arg-type]


def header(body: bytes) -> str:
    return signature_header(SECRET, body, int(NOW.timestamp()))


def test_a_signed_valid_delivery_reaches_the_payments_once() -> None:
    webhook, _, payments = receiver()
    notice, answer = webhook.receive("bankily", header(BODY), BODY)
    assert answer == "recorded" and payments.received == [notice]
    assert notice.payment_id == "bankily:BK-1" and notice.amount_mru == 4000


def test_the_provider_is_checked_before_anything_else() -> None:
    webhook, secrets, payments = receiver()
    with pytest.raises(UnknownProvider):
        webhook.receive("BANKILY", header(BODY), BODY)  # names are lower case, exactly
    assert secrets.asked == [] and payments.received == []


def test_an_oversized_body_is_refused_before_it_is_hashed_or_a_secret_read() -> None:
    webhook, secrets, payments = receiver()
    huge = b"{" + b" " * MAX_BODY_BYTES + b"}"
    with pytest.raises(PayloadTooLarge):
        webhook.receive("bankily", "t=1,v1=00", huge)
    assert secrets.asked == [] and payments.received == []


def test_the_body_is_not_parsed_before_the_signature_holds() -> None:
    webhook, _, payments = receiver()
    garbage = b'{"amount": "not even valid"}'
    with pytest.raises(SignatureInvalid):
        webhook.receive("bankily", header(BODY), garbage)
    with pytest.raises(InvalidNotice):
        webhook.receive("bankily", header(garbage), garbage)
    assert payments.received == []


@pytest.mark.parametrize(("stored", "usable"), [
    ({"bankily": SECRET}, [SECRET]),  # one secret as a string
    ({"bankily": [SECRET, "o" * 40]}, [SECRET, "o" * 40]),  # a rotation
    ({"bankily": [SECRET, "too-short", 42]}, [SECRET]),  # unusable entries are ignored
])
def test_the_secret_may_be_a_string_or_a_list(stored: dict, usable: list[str]) -> None:
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="us-east-1")
        client.create_secret(Name="wallet", SecretString=json.dumps(stored))
        assert WebhookSecrets(client, "wallet").for_provider(Provider.BANKILY) == usable


@pytest.mark.parametrize("stored", [None, "not json", json.dumps({"masrvi": [SECRET]}), json.dumps(["x"]),
                                    json.dumps({"bankily": ["short"]})])
def test_no_usable_secret_is_webhook_not_configured(stored: str | None) -> None:
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="us-east-1")
        if stored is None:
            client.create_secret(Name="wallet")  # created empty, as the template does
        else:
            client.create_secret(Name="wallet", SecretString=stored)
        with pytest.raises(WebhookNotConfigured) as refused:
            WebhookSecrets(client, "wallet").for_provider(Provider.BANKILY)
        assert refused.value.status == 503
