"""Objections and rulings through the local HTTP API: the citizen objects, an officer rules."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from murur.deadlines import Action, action_for
from murur.fines import FineSchedule
from murur.lifecycle import ViolationStatus
from murur.local import LocalStack
from murur.local.identity import citizen_token, officer_token
from murur.objections import ATTACHMENT_MAX_BYTES

from .conftest import OTHER_NNI, OTHER_VIOLATION, OWNER_NNI, OWNER_VIOLATIONS, repository

VIOLATION = OWNER_VIOLATIONS[0]
OBJECTION = {"reason": "PLATE_MISREAD", "details": "Ce n'est pas ma voiture : la mienne était au garage."}


def object_to(stack: LocalStack, violation_id: str = VIOLATION, nni: str = OWNER_NNI, body: dict | None = None,
              **headers: str):
    return stack.http("POST", f"/violations/{violation_id}/objection", token=citizen_token(nni),
                      body=OBJECTION if body is None else body, headers=headers)


def rule(stack: LocalStack, decision: str, violation_id: str = VIOLATION, officer: str = "officer-7", note: str | None = None):
    body = {"decision": decision} | ({"note": note} if note else {})
    return stack.http("POST", f"/officer/objections/{violation_id}/ruling", token=officer_token(officer), body=body)


def details(stack: LocalStack, violation_id: str = VIOLATION, nni: str = OWNER_NNI) -> dict:
    response = stack.http("GET", f"/violations/{violation_id}", token=citizen_token(nni))
    assert response.status == 200, response.body
    return response.json()


def test_an_objection_suspends_payment_and_the_deadline(api_stack: LocalStack) -> None:
    response = object_to(api_stack)
    assert response.status == 201, response.body
    assert response.json()["status"] == "OBJECTED"
    assert response.json()["objection"]["reason"] == "PLATE_MISREAD"

    shown = details(api_stack)
    assert (shown["status"], shown["payable"], shown["deadline_suspended"], shown["how_to_pay"]) == (
        "OBJECTED", False, True, [])
    stored = repository(api_stack).get(VIOLATION)
    last = stored.history[-1]
    assert (last.from_status, last.to, last.actor) == (ViolationStatus.ISSUED, ViolationStatus.OBJECTED, "citizen:owner")
    assert OWNER_NNI not in json.dumps([change.stored() for change in stored.history], default=str)
    # The deadlines job leaves an objected violation alone, even long past its deadline.
    assert action_for(stored, stored.deadline_at + timedelta(days=90), reminder_days_before=3) is Action.NOTHING


def test_a_second_objection_is_409_and_changes_nothing(api_stack: LocalStack) -> None:
    assert object_to(api_stack).status == 201
    before = repository(api_stack).get(VIOLATION)
    again = object_to(api_stack, body={"reason": "OTHER", "details": "encore"}, **{"Accept-Language": "fr"})
    assert again.status == 409
    assert again.json() == {"code": "OBJECTION_ALREADY_OPEN",
                            "message": "Une contestation est déjà ouverte pour cette infraction."}
    assert repository(api_stack).get(VIOLATION) == before


def test_a_paid_violation_cannot_be_objected_to(api_stack: LocalStack) -> None:
    repository(api_stack).transition(VIOLATION, ViolationStatus.PAID, actor="wallet:test", at=datetime.now(UTC))
    response = object_to(api_stack)
    assert (response.status, response.json()["code"]) == (409, "OBJECTION_NOT_ALLOWED")
    assert repository(api_stack).get(VIOLATION).status is ViolationStatus.PAID


def test_upholding_makes_the_fine_payable_again_with_a_new_deadline(api_stack: LocalStack) -> None:
    assert object_to(api_stack).status == 201
    before_ruling = datetime.now(UTC)
    response = rule(api_stack, "UPHOLD", note="La plaque est lisible sur la photo.")
    assert response.status == 200, response.body
    answer = response.json()
    assert (answer["status"], answer["decision"], answer["amount_due_mru"], answer["sms_sent"]) == (
        "UPHELD", "UPHOLD", 4000, True)

    payment_days = FineSchedule.default().payment_days
    new_deadline = datetime.fromisoformat(answer["deadline_at"])
    assert before_ruling + timedelta(days=payment_days) <= new_deadline <= datetime.now(UTC) + timedelta(days=payment_days)
    shown = details(api_stack)
    assert (shown["status"], shown["payable"], shown["deadline_suspended"]) == ("UPHELD", True, False)
    assert datetime.fromisoformat(shown["deadline_at"]) == new_deadline
    assert [wallet["provider"] for wallet in shown["how_to_pay"]] == ["bankily", "masrvi", "sedad"]
    assert {wallet["amount_mru"] for wallet in shown["how_to_pay"]} == {4000}
    assert shown["ruling"]["decision"] == "UPHOLD"
    assert [entry["by"] for entry in shown["history"]] == ["system", "citizen", "officer"]

    stored = repository(api_stack).get(VIOLATION)
    assert stored.history[-1].actor == "officer:officer-7"
    assert stored.ruling.officer_id == "officer-7"
    # The owner (Arabic in the registry) is told, with the new deadline; the portal too.
    (sms,) = [message for message in api_stack.sms_outbox() if VIOLATION in message["message"]]
    assert sms["phone_number"] == "+22236123456"
    assert "رفض اعتراضكم" in sms["message"] and f"{new_deadline:%d/%m/%Y}" in sms["message"]
    (event,) = [e for e in api_stack.portal_events() if e["detail-type"] == "ObjectionRuled"]
    assert (event["detail"]["violation_id"], event["detail"]["status"], event["detail"]["amount_due_mru"]) == (
        VIOLATION, "UPHELD", 4000)
    # The upheld fine runs to its new deadline, then goes overdue like any other.
    assert action_for(stored, new_deadline - timedelta(days=10), reminder_days_before=3) is Action.NOTHING
    assert action_for(stored, new_deadline, reminder_days_before=3) is Action.OVERDUE


def test_cancelling_closes_the_violation_and_tells_the_owner(api_stack: LocalStack) -> None:
    assert object_to(api_stack, OTHER_VIOLATION, OTHER_NNI).status == 201
    response = rule(api_stack, "CANCEL", OTHER_VIOLATION)
    assert response.status == 200, response.body
    assert (response.json()["status"], response.json()["deadline_at"], response.json()["sms_sent"]) == (
        "CANCELLED", None, True)
    shown = details(api_stack, OTHER_VIOLATION, OTHER_NNI)
    assert (shown["status"], shown["payable"], shown["how_to_pay"]) == ("CANCELLED", False, [])
    # The other citizen's registry language is French.
    (sms,) = [message for message in api_stack.sms_outbox() if OTHER_VIOLATION in message["message"]]
    assert sms["phone_number"] == "+22246234567"
    assert "est acceptée, l'amende est annulée" in sms["message"]
    (event,) = [e for e in api_stack.portal_events() if e["detail-type"] == "ObjectionRuled"]
    assert (event["detail"]["status"], event["detail"]["decision"]) == ("CANCELLED", "CANCEL")
    # Closed: no second ruling, no new objection.
    assert (rule(api_stack, "UPHOLD", OTHER_VIOLATION).json()["code"]) == "OBJECTION_ALREADY_RULED"
    assert object_to(api_stack, OTHER_VIOLATION, OTHER_NNI).status == 409


def test_of_two_officers_ruling_at_once_one_wins(api_stack: LocalStack) -> None:
    assert object_to(api_stack).status == 201
    first, second = rule(api_stack, "CANCEL", officer="officer-1"), rule(api_stack, "UPHOLD", officer="officer-2")
    assert (first.status, second.status) == (200, 409)
    assert second.json()["code"] == "OBJECTION_ALREADY_RULED"
    stored = repository(api_stack).get(VIOLATION)
    assert stored.status is ViolationStatus.CANCELLED
    assert [change.actor for change in stored.history].count("officer:officer-1") == 1
    assert "officer:officer-2" not in [change.actor for change in stored.history]


def test_officers_see_open_objections_only(api_stack: LocalStack) -> None:
    assert object_to(api_stack).status == 201
    assert object_to(api_stack, OTHER_VIOLATION, OTHER_NNI).status == 201
    assert rule(api_stack, "CANCEL", OTHER_VIOLATION).status == 200
    response = api_stack.http("GET", "/officer/objections", token=officer_token("officer-7"))
    assert response.status == 200
    (shown,) = response.json()["objections"]
    assert (shown["violation_id"], shown["objection"]["reason"]) == (VIOLATION, "PLATE_MISREAD")
    assert shown["evidence_url"].startswith("https://")
    assert "X-Amz-Signature=" in shown["evidence_url"] and "X-Amz-Expires=300" in shown["evidence_url"]


def test_a_ruling_on_a_violation_without_objection_is_404(api_stack: LocalStack) -> None:
    response = rule(api_stack, "UPHOLD", OWNER_VIOLATIONS[1])
    assert (response.status, response.json()["code"]) == (404, "OBJECTION_NOT_FOUND")
    assert repository(api_stack).get(OWNER_VIOLATIONS[1]).status is ViolationStatus.ISSUED


# ------------------------------------------------------------------ attachments
def attachment_form(stack: LocalStack, content_type: str = "image/jpeg", violation_id: str = VIOLATION):
    return stack.http("POST", f"/violations/{violation_id}/objection/attachments", token=citizen_token(OWNER_NNI),
                      body={"content_type": content_type})


def test_the_attachment_form_limits_size_type_and_key(api_stack: LocalStack) -> None:
    response = attachment_form(api_stack, "application/pdf")
    assert response.status == 201, response.body
    form = response.json()
    policy = json.loads(base64.b64decode(form["fields"]["policy"]))
    conditions = policy["conditions"]
    assert ["content-length-range", 1, ATTACHMENT_MAX_BYTES] in conditions
    assert {"Content-Type": "application/pdf"} in conditions
    assert {"key": f"attachments/{VIOLATION}/{form['attachment_id']}"} in conditions
    assert {"bucket": api_stack.name("ObjectionAttachmentsBucket")} in conditions
    expires = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    assert expires <= datetime.now(UTC) + timedelta(minutes=11)
    assert form["max_bytes"] == ATTACHMENT_MAX_BYTES == 5 * 1024 * 1024
    assert form["fields"]["x-amz-algorithm"] == "AWS4-HMAC-SHA256"


def test_only_images_and_pdf_may_be_attached(api_stack: LocalStack) -> None:
    response = attachment_form(api_stack, "application/x-msdownload")
    assert response.status == 422
    assert response.json()["fields"][0]["field"] == "body.content_type"


def test_an_objection_names_only_uploaded_attachments(api_stack: LocalStack) -> None:
    form = attachment_form(api_stack).json()
    body = OBJECTION | {"attachment_ids": [form["attachment_id"]]}
    missing = object_to(api_stack, body=body)
    assert (missing.status, missing.json()["code"]) == (422, "ATTACHMENT_NOT_FOUND")
    assert repository(api_stack).get(VIOLATION).status is ViolationStatus.ISSUED

    api_stack.client("s3").put_object(Bucket=api_stack.name("ObjectionAttachmentsBucket"),
                                      Key=form["fields"]["key"], Body=b"\xff\xd8\xff photo", ContentType="image/jpeg")
    filed = object_to(api_stack, body=body)
    assert filed.status == 201, filed.body
    assert filed.json()["objection"]["attachment_ids"] == [form["attachment_id"]]
    (shown,) = api_stack.http("GET", "/officer/objections", token=officer_token("officer-7")).json()["objections"]
    (url,) = shown["attachment_urls"]
    assert form["attachment_id"] in url and "X-Amz-Signature=" in url


def test_another_citizen_gets_no_attachment_form(api_stack: LocalStack) -> None:
    response = api_stack.http("POST", f"/violations/{VIOLATION}/objection/attachments", token=citizen_token(OTHER_NNI),
                              body={"content_type": "image/png"})
    assert (response.status, response.json()["code"]) == (404, "VIOLATION_NOT_FOUND")


# ------------------------------------------------------------------ validation, in Arabic and French
@pytest.mark.parametrize(("language", "message", "field_message"), [
    ("fr-FR,fr;q=0.9", "Requête invalide : vérifiez les champs indiqués.", "champ obligatoire"),
    ("ar", "الطلب غير صالح: راجع الحقول المذكورة.", "حقل مطلوب"),
    (None, "الطلب غير صالح: راجع الحقول المذكورة.", "حقل مطلوب"),  # Arabic by default
    ("en-GB,fr;q=0.5,ar;q=0.8", "الطلب غير صالح: راجع الحقول المذكورة.", "حقل مطلوب"),  # by q-value
])
def test_validation_errors_are_422_with_fields_in_the_callers_language(
        api_stack: LocalStack, language: str | None, message: str, field_message: str) -> None:
    headers = {"Accept-Language": language} if language else {}
    response = object_to(api_stack, body={"details": "x" * 1001, "attachment_ids": ["../../etc"], "extra": 1},
                         **headers)
    assert response.status == 422
    answer = response.json()
    assert (answer["code"], answer["message"]) == ("VALIDATION_FAILED", message)
    fields = {field["field"]: field for field in answer["fields"]}
    assert set(fields) == {"body.reason", "body.details", "body.attachment_ids.0", "body.extra"}
    assert fields["body.reason"] == {"field": "body.reason", "type": "missing", "message": field_message}
    assert fields["body.details"]["type"] == "string_too_long"
    assert response.headers["content-language"] == ("fr" if message.startswith("Requête") else "ar")
    # The rejected values are not echoed back.
    assert "x" * 50 not in response.body and "etc" not in response.body
    assert repository(api_stack).get(VIOLATION).status is ViolationStatus.ISSUED


def test_an_unknown_reason_and_a_bad_reference_are_422(api_stack: LocalStack) -> None:
    response = object_to(api_stack, body={"reason": "I_DONT_LIKE_IT"}, **{"Accept-Language": "fr"})
    assert response.status == 422
    (field,) = response.json()["fields"]
    assert (field["field"], field["type"], field["message"]) == ("body.reason", "enum", "valeur non admise")
    bad = api_stack.http("GET", "/violations/not-a-reference", token=citizen_token(OWNER_NNI))
    assert bad.status == 422
    assert bad.json()["fields"][0]["field"] == "path.violation_id"


def test_a_malformed_json_body_is_422(api_stack: LocalStack) -> None:
    response = api_stack.http("POST", f"/violations/{VIOLATION}/objection", token=citizen_token(OWNER_NNI),
                              body='{"reason": ', headers={"Content-Type": "application/json"})
    assert response.status == 422
    assert response.json()["code"] == "VALIDATION_FAILED"


# ------------------------------------------------------------------ pagination
def test_pages_walk_every_violation_once_newest_first(api_stack: LocalStack) -> None:
    token, seen, next_token = citizen_token(OWNER_NNI), [], None
    for _ in range(5):
        query = "?limit=1" + (f"&next_token={next_token}" if next_token else "")
        page = api_stack.http("GET", f"/violations{query}", token=token).json()
        seen += [v["violation_id"] for v in page["violations"]]
        next_token = page["next_token"]
        if not next_token:
            break
        assert OWNER_NNI not in base64.urlsafe_b64decode(next_token + "==").decode()
    assert seen == list(reversed(OWNER_VIOLATIONS))


def test_a_forged_page_token_is_400_and_limits_are_checked(api_stack: LocalStack) -> None:
    token = citizen_token(OWNER_NNI)
    bad = api_stack.http("GET", "/violations?next_token=bm90LWEtY3Vyc29y", token=token, headers={"Accept-Language": "fr"})
    assert (bad.status, bad.json()["code"]) == (400, "INVALID_PAGE_TOKEN")
    assert api_stack.http("GET", "/violations?limit=0", token=token).status == 422
    assert api_stack.http("GET", "/violations?limit=51", token=token).status == 422


# ------------------------------------------------------------------ payments while objected
def test_a_payment_while_objected_is_refused_and_recorded(api_stack: LocalStack) -> None:
    from murur.local.wallets import provider_payload, signed_delivery, webhook_path

    assert object_to(api_stack).status == 201
    payload = provider_payload("bankily", transaction_id="BK-OBJ-1", reference=VIOLATION, amount_mru=4000,
                               paid_at=datetime.now(UTC), phone_local="36123456")
    headers, body = signed_delivery("bankily", payload)
    response = api_stack.http("POST", webhook_path("bankily"), headers=headers, body=body)
    assert response.status < 500, response.body
    assert repository(api_stack).get(VIOLATION).status is ViolationStatus.OBJECTED
    items = api_stack.client("dynamodb").scan(TableName=api_stack.name("PaymentsTable"))["Items"]
    (record,) = [item for item in items if item["violation_reference"]["S"] == VIOLATION]
    assert (record["outcome"]["S"], record["violation_status"]["S"]) == ("NOT_PAYABLE", "OBJECTED")


def test_a_ruling_is_not_texted_to_whoever_owns_the_vehicle_now(api_stack: LocalStack) -> None:
    assert object_to(api_stack).status == 201
    # The vehicle was sold after the offence: the registry now names someone else, with their number.
    api_stack.client("dynamodb").update_item(
        TableName=api_stack.name("VehiclesTable"), Key={"plate": {"S": "4821AB00"}},
        UpdateExpression="SET owner_nni = :nni, owner_phone = :phone",
        ExpressionAttributeValues={":nni": {"S": "9999999999"}, ":phone": {"S": "+22249999999"}})
    response = rule(api_stack, "UPHOLD")
    assert (response.status, response.json()["sms_sent"]) == (200, False)
    assert not [m for m in api_stack.sms_outbox() if VIOLATION in m["message"]]
    # The portal still hears of it, for the violation's own owner.
    (event,) = [e for e in api_stack.portal_events() if e["detail-type"] == "ObjectionRuled"]
    assert event["detail"]["owner_nni"] == OWNER_NNI


def test_no_nni_phone_number_or_token_reaches_the_logs() -> None:
    import io
    import logging

    from murur.lifecycle import ISSUE_ACTOR
    from murur.local.seed import seed_registry

    from .conftest import make_violation

    with LocalStack(log_level="DEBUG") as stack:
        seed_registry(stack)
        repository(stack).put_new(make_violation(VIOLATION, evidence_bucket=stack.name("EvidenceBucket")),
                                  actor=ISSUE_ACTOR)
        token = citizen_token(OWNER_NNI)
        assert stack.http("GET", "/violations", token=token).status == 200  # loads the function
        # Powertools' loggers of the function (service "objection") and of murur.api (its children),
        # formatted as in CloudWatch.
        service = logging.getLogger("objection")
        captured = io.StringIO()
        handler = logging.StreamHandler(captured)
        handler.setFormatter(service.handlers[0].formatter)
        # murur.api's child loggers are named after the service that first imported them and keep
        # its level (tests import them once for many stacks; a Lambda container imports once): the
        # capture goes on each of them directly.
        children = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)
                    if ".murur.api." in name]
        assert children
        levels = [child.level for child in children]
        for child in children:
            child.setLevel(logging.INFO)
            child.addHandler(handler)
        service.addHandler(handler)
        try:
            assert stack.http("GET", "/violations", token=token).status == 200
            assert stack.http("GET", f"/violations/{VIOLATION}", token=citizen_token(OTHER_NNI)).status == 404
            assert object_to(stack, body={"reason": "OTHER", "details": "x" * 2000}).status == 422
            assert object_to(stack).status == 201
            assert rule(stack, "UPHOLD").json()["sms_sent"] is True
        finally:
            service.removeHandler(handler)
            for child, level in zip(children, levels):
                child.setLevel(level)
                child.removeHandler(handler)
    # The local account id (in the function's ARN) happens to contain the demo owner's NNI as digits.
    output = captured.getvalue().replace(stack.template.account_id, "<account>")
    assert '"objection ruled"' in output and '"request refused"' in output and '"request invalid"' in output
    for secret in (OWNER_NNI, OTHER_NNI, "+22236123456", token, "ma voiture"):
        assert secret not in output


def test_an_overdue_fine_objected_to_and_upheld_keeps_its_surcharge_once(api_stack: LocalStack) -> None:
    violations = repository(api_stack)
    violations.transition(VIOLATION, ViolationStatus.OVERDUE, actor="system:deadlines", at=datetime.now(UTC),
                          set_once={"surcharge_mru": 2000, "amount_due_mru": 6000})
    assert object_to(api_stack).status == 201  # an overdue fine may still be contested
    answer = rule(api_stack, "UPHOLD").json()
    assert (answer["status"], answer["amount_due_mru"]) == ("UPHELD", 6000)
    shown = details(api_stack)
    assert (shown["amount_mru"], shown["surcharge_mru"], shown["amount_due_mru"]) == (4000, 2000, 6000)
    assert {wallet["amount_mru"] for wallet in shown["how_to_pay"]} == {6000}
    (sms,) = [message for message in api_stack.sms_outbox() if VIOLATION in message["message"]]
    assert "6 000" in sms["message"]


def test_of_two_objections_decided_on_the_same_state_one_is_filed_the_other_409(api_stack: LocalStack) -> None:
    """The race the API cannot show one request at a time: the second objection read the violation
    before the first was written. Its conditional write fails, and it is answered as a second one."""
    from murur.objections import ObjectionAlreadyFiled, ObjectionDesk, ObjectionReason

    violations = repository(api_stack)
    stale = violations.get(VIOLATION)

    class ReadBeforeTheFirstWrite:
        """The repository, except that the first read returns the state before the first objection."""

        def __init__(self) -> None:
            self.reads = 0

        def get(self, violation_id: str):
            self.reads += 1
            return stale if self.reads == 1 else violations.get(violation_id)

        def __getattr__(self, name: str):
            return getattr(violations, name)

    assert object_to(api_stack).status == 201  # the first, written
    late = ObjectionDesk(ReadBeforeTheFirstWrite())  # type: ignore[arg-type]
    with pytest.raises(ObjectionAlreadyFiled):
        late.file(VIOLATION, OWNER_NNI, ObjectionReason.OTHER, "second")
    stored = violations.get(VIOLATION)
    assert stored.objection.reason.value == "PLATE_MISREAD"
    assert [change.to for change in stored.history].count(ViolationStatus.OBJECTED) == 1
