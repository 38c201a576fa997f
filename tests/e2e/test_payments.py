"""Wallet payments end to end on the local stack: signed deliveries through the template's HTTP API
to the real webhook handler, against violations written through the violations repository.

Each test reads what the payment left behind: the violation, PaymentsTable, the SMS outbox and the
portal bus.
"""

from __future__ import annotations

import io
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from murur.dynamo import from_item
from murur.lifecycle import ViolationStatus
from murur.local import LocalStack
from murur.local.__main__ import OperatorShell
from murur.local.functions import LambdaContext
from murur.local.operator import table_items
from murur.local.payments_demo import owners_pay_by_wallet
from murur.local.seed import VEHICLES
from murur.local.wallets import LOCAL_WEBHOOK_SECRETS, provider_payload, signed_delivery, webhook_path
from murur.notifications import PortalEvents, SmsGateway
from murur.payments import report
from murur.errors import SmsPublishFailed
from murur.payments.errors import PaymentInProgress
from murur.payments.notice import Provider
from murur.payments.repository import PaymentsRepository
from murur.payments.secrets import WebhookSecrets
from murur.payments.service import ExactlyOncePayments, PaymentResult, PaymentService
from murur.payments.webhook import WebhookReceiver
from murur.registry import DynamoDBVehicleRegistry
from murur.violations import Violation, ViolationsRepository
from murur.workflow import ViolationType

S = ViolationStatus
ISSUED_AT = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
PAYER_LOCAL = "44998877"  # the payer's wallet number (8 local digits): not the owner's
PAYER = f"+222{PAYER_LOCAL}"
FRENCH_OWNER = VEHICLES[1]
ARABIC_OWNER = VEHICLES[0]


def put_violation(stack: LocalStack, reference: str, status: ViolationStatus = S.NOTIFIED, *,
                  owner: Any = FRENCH_OWNER, amount_mru: int = 4000) -> Violation:
    """A violation as the chain leaves it, then moved along its lifecycle to `status`."""
    violations = ViolationsRepository(stack.client("dynamodb"), stack.name("ViolationsTable"))
    violations.put_new(Violation(
        violation_id=reference, status=S.ISSUED, violation_type=ViolationType.SPEEDING, plate=owner.plate,
        owner_nni=owner.owner_nni, amount_mru=amount_mru, issued_at=ISSUED_AT,
        deadline_at=ISSUED_AT + timedelta(days=30), captured_at=ISSUED_AT, camera_id="NKC-TVZ-01",
        frame_id=f"NKC-TVZ-01-{reference}", frame_bucket="frames", frame_key=f"frames/{reference}.jpg",
        frame_sha256="0" * 64, evidence_bucket="evidence", evidence_frame_key="e/frame.jpg",
        evidence_frame_sha256="1" * 64, evidence_annotated_key="e/annotated.jpg", evidence_annotated_sha256="2" * 64,
        model_version="test", read_source="model", execution_arn="arn:aws:states:local:execution"),
        actor="system:issue_violation")
    path = {S.ISSUED: [], S.NOTIFIED: [S.NOTIFIED], S.OVERDUE: [S.NOTIFIED, S.OVERDUE],
            S.OBJECTED: [S.NOTIFIED, S.OBJECTED], S.UPHELD: [S.NOTIFIED, S.OBJECTED, S.UPHELD],
            S.CANCELLED: [S.NOTIFIED, S.OBJECTED, S.CANCELLED]}[status]
    for step in path:
        surcharge = {"surcharge_mru": amount_mru // 2, "amount_due_mru": amount_mru + amount_mru // 2} \
            if step is S.OVERDUE else None
        violations.transition(reference, step, actor="test", at=ISSUED_AT + timedelta(days=1), set_once=surcharge)
    stored = violations.get(reference)
    assert stored is not None and stored.status is status
    return stored


def violation_item(stack: LocalStack, reference: str) -> dict[str, Any]:
    item = stack.client("dynamodb").get_item(TableName=stack.name("ViolationsTable"),
                                             Key={"violation_id": {"S": reference}})["Item"]
    return from_item(item)


def deliver(stack: LocalStack, provider: Provider | str, reference: str, amount_mru: int, *,
            transaction_id: str = "TX-0001", paid_at: datetime | None = None, **signing: Any) -> Any:
    payload = provider_payload(provider if provider in set(Provider) else Provider.BANKILY,
                               transaction_id=transaction_id, reference=reference, amount_mru=amount_mru,
                               paid_at=paid_at or datetime.now(UTC).replace(microsecond=0), phone_local=PAYER_LOCAL)
    headers, body = signed_delivery(provider if provider in set(Provider) else Provider.BANKILY, payload, **signing)
    return stack.http("POST", webhook_path(provider), headers=headers, body=body)


def payment_events(stack: LocalStack) -> list[dict[str, Any]]:
    return [event for event in stack.portal_events() if event["detail-type"] == "PaymentReceived"]


def test_a_valid_payment_makes_the_violation_paid_once_with_one_receipt_and_one_portal_event(
        stack: LocalStack) -> None:
    put_violation(stack, "MR26-PAYVALID01")
    stack.portal_events()  # drain what setting up sent
    paid_at = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=30)

    answers = [deliver(stack, Provider.BANKILY, "MR26-PAYVALID01", 4000, transaction_id="BK-777", paid_at=paid_at)
               for _ in range(4)]  # the delivery, then three duplicates

    assert [answer.status for answer in answers] == [200] * 4
    first = answers[0].json()
    assert first["outcome"] == "APPLIED" and first["payment_id"] == "bankily:BK-777"
    assert all(answer.json() == first for answer in answers[1:])
    violation = violation_item(stack, "MR26-PAYVALID01")
    assert violation["status"] == "PAID"
    assert violation["payment_id"] == "bankily:BK-777"
    assert datetime.fromisoformat(violation["paid_at"]) == paid_at
    paid = [entry for entry in violation["history"] if entry["to"] == "PAID"]
    assert len(paid) == 1
    assert paid[0]["from"] == "NOTIFIED" and paid[0]["actor"] == "wallet:bankily"
    (record,) = table_items(stack, "PaymentsTable")
    assert record["outcome"] == "APPLIED" and record["amount_mru"] == 4000 and record["amount_due_mru"] == 4000
    assert record["receipt_sms_status"] == "SENT" and record["receipt_message_id"]
    receipts = [sms for sms in stack.sms_outbox() if sms["phone_number"] == PAYER]
    assert len(receipts) == 1
    # The owner's language (French), the payment's facts.
    assert receipts[0]["message"].startswith("Murur: paiement de 4 000 MRU")
    assert "MR26-PAYVALID01" in receipts[0]["message"] and "BK-777" in receipts[0]["message"]
    (event,) = payment_events(stack)
    assert event["detail"]["violation_id"] == "MR26-PAYVALID01"
    assert event["detail"]["amount_mru"] == 4000 and event["detail"]["provider"] == "bankily"
    assert PAYER_LOCAL not in json.dumps(event)
    idempotency = table_items(stack, "IdempotencyTable")
    assert len(idempotency) == 1 and idempotency[0]["status"] == "COMPLETED"

    # Days later the idempotency record has expired (its TTL removed it): PaymentsTable still answers.
    dynamodb = stack.client("dynamodb")
    dynamodb.delete_item(TableName=stack.name("IdempotencyTable"), Key={"id": {"S": idempotency[0]["id"]}})
    late = deliver(stack, Provider.BANKILY, "MR26-PAYVALID01", 4000, transaction_id="BK-777", paid_at=paid_at)
    assert (late.status, late.json()) == (200, first)
    for record in table_items(stack, "IdempotencyTable"):  # expired again: the payment record alone decides
        dynamodb.delete_item(TableName=stack.name("IdempotencyTable"), Key={"id": {"S": record["id"]}})
    reused = deliver(stack, Provider.BANKILY, "MR26-PAYVALID01", 3000, transaction_id="BK-777", paid_at=paid_at)
    assert (reused.status, reused.json()["code"]) == (409, "TRANSACTION_MISMATCH")
    assert violation_item(stack, "MR26-PAYVALID01") == violation
    assert len(table_items(stack, "PaymentsTable")) == 1
    assert len([sms for sms in stack.sms_outbox() if sms["phone_number"] == PAYER]) == 1
    assert payment_events(stack) == []


@pytest.fixture
def atomic_dynamodb_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    """DynamoDB checks a write's condition and applies it atomically; moto, called from several threads
    at once, does not. Serialising moto's writes restores DynamoDB's guarantee, nothing more."""
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()
    for name in ("put_item", "update_item", "delete_item"):
        original = getattr(DynamoDBBackend, name)

        def serialised(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            with lock:
                return _original(self, *args, **kwargs)

        monkeypatch.setattr(DynamoDBBackend, name, serialised)


def _container(stack: LocalStack, sms: Any = None) -> WebhookReceiver:
    """What one Lambda container of the webhook builds (functions/payment_webhook/app.py)."""
    dynamodb = stack.client("dynamodb")
    service = PaymentService(
        violations=ViolationsRepository(dynamodb, stack.name("ViolationsTable")),
        payments=PaymentsRepository(dynamodb, stack.name("PaymentsTable")),
        registry=DynamoDBVehicleRegistry(dynamodb, stack.name("VehiclesTable")),
        sms=sms or SmsGateway(stack.client("sns")), portal=PortalEvents(stack.client("events"), stack.name("PortalEventBus")),
        portal_base_url="https://khidmati.gov.mr/murur")
    secrets = WebhookSecrets(stack.client("secretsmanager"), stack.name("WalletWebhookSecrets"))
    payments = ExactlyOncePayments(service, dynamodb, stack.name("IdempotencyTable"))
    function = stack.functions["PaymentWebhookFunction"]
    payments.register_lambda_context(LambdaContext(function.name, function.arn, function.memory_mb,
                                                   function.timeout_seconds,
                                                   _deadline=time.monotonic() + function.timeout_seconds))
    return WebhookReceiver(secrets, payments)


@pytest.mark.usefixtures("atomic_dynamodb_writes")
def test_fifty_concurrent_identical_deliveries_make_one_payment_and_one_receipt(stack: LocalStack) -> None:
    """50 webhook containers receive the same delivery at the same moment. They are driven below the
    HTTP layer (WebhookReceiver, from the raw signed bytes on) because the local stack runs one
    handler call at a time, as one container would: through it, deliveries could never overlap."""
    put_violation(stack, "MR26-PAYCONCUR1", S.OVERDUE, owner=ARABIC_OWNER)  # due: 4000 + 2000 surcharge
    stack.portal_events()
    headers, body = signed_delivery(Provider.SEDAD, provider_payload(
        Provider.SEDAD, transaction_id="SDD-50", reference="MR26-PAYCONCUR1", amount_mru=6000,
        paid_at=datetime.now(UTC).replace(microsecond=0), phone_local=PAYER_LOCAL))
    containers = [_container(stack) for _ in range(50)]
    start = threading.Barrier(50)

    def delivery(receiver: WebhookReceiver) -> PaymentResult | str:
        start.wait()
        try:
            return receiver.receive("sedad", headers["Murur-Signature"], body)[1]
        except PaymentInProgress as busy:
            return busy.code

    with ThreadPoolExecutor(max_workers=50) as pool:
        outcomes = list(pool.map(delivery, containers))

    results = [outcome for outcome in outcomes if isinstance(outcome, PaymentResult)]
    assert results and all(outcome == "PAYMENT_IN_PROGRESS" for outcome in outcomes if outcome not in results)
    # The provider sends the refused ones again: every answer is now the first one.
    retried = [containers[0].receive("sedad", headers["Murur-Signature"], body)[1]
               for outcome in outcomes if outcome not in results]
    assert {result.model_dump_json() for result in results + retried} == {results[0].model_dump_json()}
    assert results[0].outcome == "APPLIED" and results[0].amount_due_mru == 6000
    violation = violation_item(stack, "MR26-PAYCONCUR1")
    assert violation["status"] == "PAID"
    assert [entry["from"] for entry in violation["history"] if entry["to"] == "PAID"] == ["OVERDUE"]
    assert len(table_items(stack, "PaymentsTable")) == 1
    receipts = [sms for sms in stack.sms_outbox() if sms["phone_number"] == PAYER]
    assert len(receipts) == 1 and receipts[0]["message"].startswith("مرور")  # the owner reads Arabic
    assert len(payment_events(stack)) == 1


def test_refused_deliveries_change_nothing_and_say_why(stack: LocalStack) -> None:
    put_violation(stack, "MR26-PAYREFUSE1")
    before = violation_item(stack, "MR26-PAYREFUSE1")
    stack.portal_events()
    now = datetime.now(UTC).replace(microsecond=0)
    payload = provider_payload(Provider.BANKILY, transaction_id="BK-R1", reference="MR26-PAYREFUSE1",
                               amount_mru=4000, paid_at=now, phone_local=PAYER_LOCAL)
    headers, body = signed_delivery(Provider.BANKILY, payload)
    tampered = body.replace(b'"amount": 4000', b'"amount": 40')
    assert tampered != body
    huge = json.dumps(payload | {"padding": "x" * 70_000}).encode()
    path = webhook_path(Provider.BANKILY)
    cases = {
        "no signature": (path, {"Content-Type": "application/json"}, body, 401, "SIGNATURE_MISSING"),
        "forged signature": (path, {"Murur-Signature": f"t={int(now.timestamp())},v1={'ab' * 32}"}, body,
                             401, "SIGNATURE_INVALID"),
        "wrong secret": (path, *signed_delivery(Provider.BANKILY, payload, secret="not-the-secret-" * 3), 401,
                         "SIGNATURE_INVALID"),
        "another provider's secret": (path, *signed_delivery(Provider.BANKILY, payload,
                                                             secret=LOCAL_WEBHOOK_SECRETS["sedad"][0]),
                                      401, "SIGNATURE_INVALID"),
        "replayed old delivery": (path, *signed_delivery(Provider.BANKILY, payload, at=now - timedelta(minutes=6)),
                                  401, "TIMESTAMP_OUT_OF_TOLERANCE"),
        "tampered amount": (path, headers, tampered, 401, "SIGNATURE_INVALID"),
        "malformed JSON": (path, *signed_delivery(Provider.BANKILY, b'{"transactionId": "BK-R1", '), 400,
                           "MALFORMED_JSON"),
        "invalid fields": (path, *signed_delivery(Provider.BANKILY, {**payload, "currency": "USD", "payer": None}),
                           422, "INVALID_NOTICE"),
        "huge body": (path, *signed_delivery(Provider.BANKILY, huge), 413, "PAYLOAD_TOO_LARGE"),
        "unknown provider": (webhook_path("paypal"), headers, body, 404, "UNKNOWN_PROVIDER"),
    }
    for case, (target, sent_headers, sent_body, status, code) in cases.items():
        answer = stack.http("POST", target, headers=sent_headers, body=sent_body)
        assert (answer.status, answer.json()["code"]) == (status, code), case
        assert PAYER_LOCAL not in answer.body, case

    invalid = stack.http("POST", path, headers=cases["invalid fields"][1], body=cases["invalid fields"][2]).json()
    assert {detail["field"] for detail in invalid["details"]} == {"currency", "payer"}
    assert violation_item(stack, "MR26-PAYREFUSE1") == before
    assert table_items(stack, "PaymentsTable") == []
    assert table_items(stack, "IdempotencyTable") == []
    assert [sms for sms in stack.sms_outbox() if sms["phone_number"] == PAYER] == []
    assert payment_events(stack) == []


def test_unmatched_payments_are_recorded_with_their_reason_and_reconciled(stack: LocalStack) -> None:
    put_violation(stack, "MR26-PAYWRONG01")
    put_violation(stack, "MR26-PAYOBJECT1", S.OBJECTED)
    put_violation(stack, "MR26-PAYCANCEL1", S.CANCELLED)
    put_violation(stack, "MR26-PAYTWICE01")
    put_violation(stack, "MR26-PAYUPHELD1", S.UPHELD, owner=ARABIC_OWNER)
    put_violation(stack, "MR26-PAYOVERDUE", S.OVERDUE)
    untouched = {reference: violation_item(stack, reference)
                 for reference in ("MR26-PAYWRONG01", "MR26-PAYOBJECT1", "MR26-PAYCANCEL1", "MR26-PAYOVERDUE")}
    at = (datetime.now(UTC) - timedelta(days=1)).replace(hour=8, minute=0, second=0, microsecond=0)  # yesterday

    expected = [
        (Provider.MASRVI, "MR26-PAYWRONG01", 3999, "M-1", "WRONG_AMOUNT"),
        (Provider.MASRVI, "MR26-NOSUCHREF0", 4000, "M-2", "UNKNOWN_REFERENCE"),
        (Provider.SEDAD, "MR26-PAYOBJECT1", 4000, "S-1", "NOT_PAYABLE"),  # payment suspended by the objection
        (Provider.SEDAD, "MR26-PAYCANCEL1", 4000, "S-2", "NOT_PAYABLE"),
        (Provider.BANKILY, "MR26-PAYTWICE01", 4000, "B-1", "APPLIED"),
        (Provider.MASRVI, "MR26-PAYTWICE01", 4000, "M-3", "ALREADY_PAID"),  # a second wallet, same fine
        (Provider.SEDAD, "MR26-PAYUPHELD1", 4000, "S-3", "APPLIED"),  # objection rejected: payable again
        (Provider.MASRVI, "MR26-PAYOVERDUE", 4000, "M-4", "WRONG_AMOUNT"),  # the surcharge is due too
    ]
    for provider, reference, amount, transaction, outcome in expected:
        answer = deliver(stack, provider, reference, amount, transaction_id=transaction, paid_at=at)
        assert (answer.status, answer.json()["outcome"]) == (200, outcome), (provider, reference)

    # The same transaction id with another amount is not this payment: refused, the first record stands.
    conflict = deliver(stack, Provider.MASRVI, "MR26-PAYWRONG01", 4000, transaction_id="M-1", paid_at=at)
    assert (conflict.status, conflict.json()["code"]) == (409, "TRANSACTION_MISMATCH")
    for reference, item in untouched.items():
        assert violation_item(stack, reference) == item, reference
    twice = violation_item(stack, "MR26-PAYTWICE01")
    assert twice["status"] == "PAID" and twice["payment_id"] == "bankily:B-1"
    assert violation_item(stack, "MR26-PAYUPHELD1")["status"] == "PAID"
    records = {r["payment_id"]: r for r in table_items(stack, "PaymentsTable")}
    assert {payment_id: r["outcome"] for payment_id, r in records.items()} == {
        f"{p.value}:{t}": o for p, _, _, t, o in expected}
    assert records["masrvi:M-1"]["amount_mru"] == 3999 and records["masrvi:M-1"]["amount_due_mru"] == 4000
    assert records["sedad:S-1"]["violation_status"] == "OBJECTED"
    # Only the applied payments got a receipt.
    assert len([sms for sms in stack.sms_outbox() if sms["phone_number"] == PAYER]) == 2

    out = io.StringIO()
    assert report.main(["--table", stack.name("PaymentsTable"), "--from", at.date().isoformat(), "--json"],
                       dynamodb=stack.client("dynamodb"), stream=out) == 0
    reconciliation = json.loads(out.getvalue())
    assert sorted(r["payment_id"] for r in reconciliation["applied"]) == ["bankily:B-1", "sedad:S-3"]
    assert sorted((r["payment_id"], r["outcome"]) for r in reconciliation["unmatched"]) == sorted(
        (f"{p.value}:{t}", o) for p, _, _, t, o in expected if o != "APPLIED")
    assert all(PAYER_LOCAL not in r["payer_phone"] for r in reconciliation["unmatched"])
    totals = {t["provider"]: t for t in reconciliation["totals"]}
    assert {provider: (t["applied_count"], t["applied_mru"], t["unmatched_count"], t["unmatched_mru"])
            for provider, t in totals.items()} == {
        "bankily": (1, 4000, 0, 0), "masrvi": (0, 0, 4, 3999 + 4000 + 4000 + 4000), "sedad": (1, 4000, 2, 8000)}
    assert {t["day"] for t in reconciliation["totals"]} == {at.date().isoformat()}
    text = io.StringIO()
    report.main(["--table", stack.name("PaymentsTable"), "--from", at.date().isoformat(), "--provider", "masrvi"],
                dynamodb=stack.client("dynamodb"), stream=text)
    assert "Payments unmatched: 4" in text.getvalue() and "WRONG_AMOUNT (due 4000" in text.getvalue()
    assert PAYER not in text.getvalue()
    # The local operator's command prints the same report from the running stack.
    shell = OperatorShell(stack, stdout=io.StringIO())
    shell.onecmd(f"payments_report --from {at.date().isoformat()}")
    assert "Payments applied: 2" in shell.stdout.getvalue() and "Payments unmatched: 6" in shell.stdout.getvalue()


def test_the_demo_step_pays_two_fines_once_each_and_reconciles(stack: LocalStack) -> None:
    put_violation(stack, "MR26-PAYDEMO001", S.UPHELD, owner=ARABIC_OWNER)
    put_violation(stack, "MR26-PAYDEMO002", S.NOTIFIED)
    printed: list[str] = []

    summary = owners_pay_by_wallet(stack, printed.append)

    assert [(p["violation_id"], p["outcome"]) for p in summary["payments"]] == [
        ("MR26-PAYDEMO001", "APPLIED"), ("MR26-PAYDEMO001", "APPLIED"),  # the duplicate delivery
        ("MR26-PAYDEMO002", "WRONG_AMOUNT"), ("MR26-PAYDEMO002", "APPLIED")]
    assert summary["receipts"] == 2
    assert {violation_item(stack, r)["status"] for r in ("MR26-PAYDEMO001", "MR26-PAYDEMO002")} == {"PAID"}
    assert {(t["provider"], t["applied_count"], t["unmatched_count"]) for t in summary["reconciliation"]} == {
        ("bankily", 1, 0), ("masrvi", 1, 1)}
    assert any("Payments unmatched: 1" in line for line in printed)
    # The local operator's `pay` sends the same signed webhook: the fine is paid already.
    shell = OperatorShell(stack, stdout=io.StringIO())
    shell.onecmd("pay mr26-paydemo002 4000 --provider sedad --transaction SDD-OP-1")
    assert shell.stdout.getvalue().startswith("200 ") and '"outcome":"ALREADY_PAID"' in shell.stdout.getvalue()


class RefusingSms:
    """SNS refusing every SMS (as SmsGateway reports it: the error code, never the number)."""

    def send(self, phone_number: str, text: str) -> str:
        raise SmsPublishFailed("SNS Publish: InvalidParameter")


def test_a_receipt_sns_refuses_leaves_the_payment_applied_and_shows_in_the_report(stack: LocalStack) -> None:
    put_violation(stack, "MR26-PAYNOSMS01")
    paid_at = datetime.now(UTC).replace(microsecond=0)
    headers, body = signed_delivery(Provider.BANKILY, provider_payload(
        Provider.BANKILY, transaction_id="BK-NOSMS", reference="MR26-PAYNOSMS01", amount_mru=4000,
        paid_at=paid_at, phone_local=PAYER_LOCAL))
    receiver = _container(stack, sms=RefusingSms())

    result = receiver.receive("bankily", headers["Murur-Signature"], body)[1]
    again = receiver.receive("bankily", headers["Murur-Signature"], body)[1]

    assert result.outcome == "APPLIED" and again == result
    assert violation_item(stack, "MR26-PAYNOSMS01")["status"] == "PAID"
    (record,) = table_items(stack, "PaymentsTable")
    assert record["receipt_error"] == "SNS Publish: InvalidParameter" and "receipt_message_id" not in record
    out = io.StringIO()
    report.main(["--table", stack.name("PaymentsTable"), "--from", paid_at.date().isoformat(), "--json"],
                dynamodb=stack.client("dynamodb"), stream=out)
    assert [line["receipt"] for line in json.loads(out.getvalue())["applied"]] == ["FAILED"]
