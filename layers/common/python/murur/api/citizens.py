"""The citizens' routes, called by Khidmati on behalf of a signed-in citizen (KhidmatiAuthorizer).

    GET  /violations                                     the caller's violations, newest first, paginated
    GET  /violations/{violation_id}                      details, evidence picture, how to pay, history
    POST /violations/{violation_id}/objection/attachments  a presigned POST form for one attachment
    POST /violations/{violation_id}/objection            file the objection (-> OBJECTED)

The caller is the NNI of the token (murur.api.identity), never a value of the request. A violation
that is not the caller's answers exactly as one that does not exist: 404 VIOLATION_NOT_FOUND.
Attachments are uploaded first, each with its own form (S3 enforces the type and the size), and the
objection then names them by id.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter as Router
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from murur.api import wiring
from murur.api.errors import documented, language_from
from murur.api.identity import citizen_from
from murur.lifecycle import StatusChange, ViolationStatus, is_allowed
from murur.notices import Language
from murur.objections import (
    ATTACHMENT_MAX_BYTES,
    DETAILS_MAX_CHARACTERS,
    MAX_ATTACHMENTS,
    AttachmentContentType,
    Objection,
    ObjectionReason,
    Ruling,
    RulingDecision,
)
from murur.payments.notice import Provider
from murur.violations import Violation
from murur.workflow import ViolationType

logger = Logger(child=True)
router = Router()

MAX_PAGE = 50
DEFAULT_PAGE = 20
# Violation references: "MR" + two year digits + "-" + 10 Crockford base32 characters (murur.violations).
VIOLATION_ID = Path(pattern=r"^MR[0-9]{2}-[0-9A-HJKMNP-TV-Z]{10}$", description="The violation's reference")
ATTACHMENT_ID_PATTERN = r"^[0-9a-f]{32}$"

WALLET_NAMES = {Provider.BANKILY: "Bankily", Provider.MASRVI: "Masrvi", Provider.SEDAD: "Sedad"}
_HOW_TO_PAY: dict[Language, str] = {
    "ar": "في تطبيق {wallet}: اختر دفع مخالفة مرور، أدخل المرجع {reference} والمبلغ {amount} أوقية.",
    "fr": "Dans {wallet} : paiement d'amende Murur, référence {reference}, montant {amount} MRU.",
}


# ------------------------------------------------------------------ answers
class ViolationSummary(BaseModel):
    violation_id: str
    status: ViolationStatus
    violation_type: ViolationType
    plate: str
    place: str | None = None
    captured_at: AwareDatetime
    issued_at: AwareDatetime
    amount_due_mru: int = Field(description="What paying costs now (the fine, with its surcharge once overdue)")
    currency: str = "MRU"
    deadline_at: AwareDatetime
    payable: bool = Field(description="False while an objection is open, and once paid or cancelled")
    objection_open: bool


class ViolationsPage(BaseModel):
    violations: list[ViolationSummary]
    next_token: str | None = Field(description="Pass as next_token for the next page; absent after the last")


class EvidencePicture(BaseModel):
    annotated_picture_url: str = Field(description="The annotated evidence picture: presigned GET, short-lived")
    expires_at: AwareDatetime


class WalletPayment(BaseModel):
    provider: Provider
    name: str
    reference: str
    amount_mru: int
    instructions: str


class HistoryEntry(BaseModel):
    from_status: ViolationStatus | None = None
    to: ViolationStatus
    at: AwareDatetime
    by: str = Field(description="Who made the change: system, citizen, officer or wallet")


class ObjectionView(BaseModel):
    reason: ObjectionReason
    details: str | None = None
    attachment_ids: list[str]
    filed_at: AwareDatetime


class RulingView(BaseModel):
    decision: RulingDecision
    ruled_at: AwareDatetime
    note: str | None = None


class ViolationDetails(ViolationSummary):
    camera_id: str
    measured_speed_kmh: float | None = None
    speed_limit_kmh: float | None = None
    signal_phase: str | None = None
    amount_mru: int = Field(description="The fine as issued")
    surcharge_mru: int | None = None
    deadline_suspended: bool = Field(description="True while an objection is open: no deadline runs")
    evidence: EvidencePicture
    how_to_pay: list[WalletPayment] = Field(description="One entry per wallet; empty when nothing is to be paid")
    objection: ObjectionView | None = None
    ruling: RulingView | None = None
    history: list[HistoryEntry]


class AttachmentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    content_type: AttachmentContentType


class AttachmentUpload(BaseModel):
    attachment_id: str = Field(description="Name it in the objection's attachment_ids once uploaded")
    url: str = Field(description="POST the form here (multipart/form-data), the file last as field `file`")
    fields: dict[str, str] = Field(description="Form fields to send as they are")
    content_type: str
    max_bytes: int
    expires_at: AwareDatetime


class ObjectionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: ObjectionReason
    details: str | None = Field(default=None, max_length=DETAILS_MAX_CHARACTERS)
    attachment_ids: list[Annotated[str, Field(pattern=ATTACHMENT_ID_PATTERN)]] = Field(
        default_factory=list, max_length=MAX_ATTACHMENTS)


class ObjectionFiled(BaseModel):
    violation_id: str
    status: ViolationStatus
    objection: ObjectionView


# ------------------------------------------------------------------ shaping
def _language() -> Language:
    return language_from(router.current_event.headers.get("accept-language"))


def is_payable(violation: Violation) -> bool:
    return is_allowed(violation.status, ViolationStatus.PAID)


def summary_fields(violation: Violation) -> dict[str, Any]:
    return {
        "violation_id": violation.violation_id, "status": violation.status,
        "violation_type": violation.violation_type, "plate": violation.plate, "place": violation.place,
        "captured_at": violation.captured_at, "issued_at": violation.issued_at,
        "amount_due_mru": violation.payable_mru, "currency": violation.currency,
        "deadline_at": violation.deadline_at, "payable": is_payable(violation),
        "objection_open": violation.status is ViolationStatus.OBJECTED,
    }


def objection_view(objection: Objection) -> ObjectionView:
    return ObjectionView(reason=objection.reason, details=objection.details,
                         attachment_ids=list(objection.attachments), filed_at=objection.filed_at)


def _ruling_view(ruling: Ruling) -> RulingView:
    return RulingView(decision=ruling.decision, ruled_at=ruling.ruled_at, note=ruling.note)


def _history_entry(change: StatusChange) -> HistoryEntry:
    # The kind of actor only: officers' ids and system step names are internal.
    return HistoryEntry(from_status=change.from_status, to=change.to, at=change.at, by=change.actor.split(":")[0])


def wallet_payments(violation: Violation, language: Language) -> list[WalletPayment]:
    if not is_payable(violation):
        return []
    amount = violation.payable_mru
    return [
        WalletPayment(provider=provider, name=name, reference=violation.violation_id, amount_mru=amount,
                      instructions=_HOW_TO_PAY[language].format(wallet=name, reference=violation.violation_id,
                                                                amount=f"{amount:,}".replace(",", " ")))
        for provider, name in WALLET_NAMES.items()
    ]


def details_of(violation: Violation, language: Language) -> ViolationDetails:
    url = wiring.presigned_get(violation.evidence_bucket, violation.evidence_annotated_key)
    return ViolationDetails(
        **summary_fields(violation),
        camera_id=violation.camera_id, measured_speed_kmh=violation.measured_speed_kmh,
        speed_limit_kmh=violation.speed_limit_kmh, signal_phase=violation.signal_phase,
        amount_mru=violation.amount_mru, surcharge_mru=violation.surcharge_mru,
        deadline_suspended=violation.status is ViolationStatus.OBJECTED,
        evidence=EvidencePicture(annotated_picture_url=url,
                                 expires_at=datetime.now(UTC) + timedelta(seconds=wiring.PICTURE_URL_SECONDS)),
        how_to_pay=wallet_payments(violation, language),
        objection=objection_view(violation.objection) if violation.objection else None,
        ruling=_ruling_view(violation.ruling) if violation.ruling else None,
        history=[_history_entry(change) for change in violation.history],
    )


# ------------------------------------------------------------------ routes
@router.get("/violations", summary="The caller's violations, newest first", tags=["citizens"],
            responses=documented(200, ViolationsPage, "A page of the caller's violations",
                                 {400: "INVALID_PAGE_TOKEN", 403: "NOT_A_CITIZEN"}))
def list_violations(
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
    next_token: Annotated[str | None, Query(max_length=400)] = None,
) -> ViolationsPage:
    citizen = citizen_from(router.current_event)
    page = wiring.violations().owned_by(citizen.nni, limit=limit, cursor=next_token)
    return ViolationsPage(violations=[ViolationSummary(**summary_fields(v)) for v in page.violations],
                          next_token=page.next_cursor)


@router.get("/violations/<violation_id>", summary="One of the caller's violations", tags=["citizens"],
            responses=documented(200, ViolationDetails, "The violation",
                                 {403: "NOT_A_CITIZEN",
                                  404: "VIOLATION_NOT_FOUND: no such violation, or another citizen's"}))
def get_violation(violation_id: Annotated[str, VIOLATION_ID]) -> ViolationDetails:
    citizen = citizen_from(router.current_event)
    violation = wiring.objection_desk().owners_violation(violation_id, citizen.nni)
    return details_of(violation, _language())


@router.post("/violations/<violation_id>/objection/attachments", status_code=201, tags=["citizens"],
             summary="A presigned POST form for one attachment of the objection (image/jpeg, image/png or "
                     f"application/pdf, at most {ATTACHMENT_MAX_BYTES // (1024 * 1024)} MiB)",
             responses=documented(201, AttachmentUpload, "The form to upload the attachment with",
                                  {403: "NOT_A_CITIZEN", 404: "VIOLATION_NOT_FOUND",
                                   409: "OBJECTION_ALREADY_OPEN or OBJECTION_NOT_ALLOWED"}))
def attachment_form(violation_id: Annotated[str, VIOLATION_ID], body: AttachmentRequest) -> AttachmentUpload:
    citizen = citizen_from(router.current_event)
    form = wiring.objection_desk().attachment_form(violation_id, citizen.nni, body.content_type)
    return AttachmentUpload(attachment_id=form.attachment_id, url=form.url, fields=form.fields,
                            content_type=form.content_type, max_bytes=form.max_bytes, expires_at=form.expires_at)


@router.post("/violations/<violation_id>/objection", status_code=201, tags=["citizens"],
             summary="Object to the violation: payment and the deadline wait for an officer's ruling",
             responses=documented(201, ObjectionFiled, "The objection, filed; the violation is OBJECTED",
                                  {403: "NOT_A_CITIZEN", 404: "VIOLATION_NOT_FOUND",
                                   409: "OBJECTION_ALREADY_OPEN, OBJECTION_NOT_ALLOWED or CONFLICT",
                                   422: "VALIDATION_FAILED or ATTACHMENT_NOT_FOUND"}))
def file_objection(violation_id: Annotated[str, VIOLATION_ID], body: ObjectionRequest) -> ObjectionFiled:
    citizen = citizen_from(router.current_event)
    violation = wiring.objection_desk().file(violation_id, citizen.nni, body.reason, body.details,
                                             tuple(body.attachment_ids))
    logger.info("objection filed", extra={"violation_id": violation_id, "reason": body.reason.value,
                                          "attachments": len(body.attachment_ids)})
    assert violation.objection is not None
    return ObjectionFiled(violation_id=violation_id, status=violation.status,
                          objection=objection_view(violation.objection))
