"""The officers' objection routes (OfficerAuthorizer, group `officers`).

    GET  /officer/objections                            open objections, earliest deadline first
    POST /officer/objections/{violation_id}/ruling      UPHOLD (payable again, new deadline) or CANCEL

The ruling goes through murur.objections: one conditional write (of two officers ruling at once,
one wins; the other gets 409 OBJECTION_ALREADY_RULED), the history names `officer:<id>`, then the
owner is told by SMS and the portal by an ObjectionRuled event.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter as Router
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from murur.api import wiring
from murur.api.citizens import VIOLATION_ID, ObjectionView, objection_view
from murur.api.errors import documented
from murur.api.identity import officer_from
from murur.lifecycle import ViolationStatus
from murur.objections import RULING_NOTE_MAX_CHARACTERS, RulingDecision, attachment_key
from murur.violations import Violation
from murur.workflow import ViolationType

logger = Logger(child=True)
router = Router()

MAX_PAGE = 50


class OpenObjection(BaseModel):
    violation_id: str
    violation_type: ViolationType
    plate: str
    camera_id: str
    place: str | None = None
    captured_at: AwareDatetime
    measured_speed_kmh: float | None = None
    speed_limit_kmh: float | None = None
    signal_phase: str | None = None
    amount_due_mru: int
    objection: ObjectionView
    evidence_url: str = Field(description="The annotated evidence picture: presigned GET, short-lived")
    attachment_urls: list[str] = Field(description="The citizen's attachments: presigned GETs, short-lived")
    urls_expire_at: AwareDatetime


class OpenObjections(BaseModel):
    objections: list[OpenObjection]
    next_token: str | None = None


class RulingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    decision: RulingDecision
    note: str | None = Field(default=None, max_length=RULING_NOTE_MAX_CHARACTERS,
                             description="Why; kept with the ruling and shown to the citizen")


class RulingAnswer(BaseModel):
    violation_id: str
    status: ViolationStatus
    decision: RulingDecision
    deadline_at: AwareDatetime | None = Field(description="UPHOLD: the new deadline")
    amount_due_mru: int | None = Field(description="UPHOLD: what is due by the new deadline")
    sms_sent: bool = Field(description="The owner was told by SMS (False: no usable number, or SMS failed)")


def _open_objection(violation: Violation, expires_at: datetime) -> OpenObjection:
    assert violation.objection is not None
    bucket = wiring.attachments_bucket()
    return OpenObjection(
        violation_id=violation.violation_id, violation_type=violation.violation_type, plate=violation.plate,
        camera_id=violation.camera_id, place=violation.place, captured_at=violation.captured_at,
        measured_speed_kmh=violation.measured_speed_kmh, speed_limit_kmh=violation.speed_limit_kmh,
        signal_phase=violation.signal_phase, amount_due_mru=violation.payable_mru,
        objection=objection_view(violation.objection),
        evidence_url=wiring.presigned_get(violation.evidence_bucket, violation.evidence_annotated_key),
        attachment_urls=[wiring.presigned_get(bucket, attachment_key(violation.violation_id, attachment))
                         for attachment in violation.objection.attachments],
        urls_expire_at=expires_at,
    )


@router.get("/officer/objections", summary="Open objections, earliest deadline first", tags=["officers"],
            responses=documented(200, OpenObjections, "A page of open objections",
                                 {400: "INVALID_PAGE_TOKEN", 403: "NOT_AN_OFFICER"}))
def open_objections(
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 20,
    next_token: Annotated[str | None, Query(max_length=400)] = None,
) -> OpenObjections:
    officer_from(router.current_event)
    page = wiring.violations().in_status(ViolationStatus.OBJECTED, limit=limit, cursor=next_token)
    expires_at = datetime.now(UTC) + timedelta(seconds=wiring.PICTURE_URL_SECONDS)
    return OpenObjections(objections=[_open_objection(v, expires_at) for v in page.violations if v.objection],
                          next_token=page.next_cursor)


@router.post("/officer/objections/<violation_id>/ruling", summary="Rule on an open objection", tags=["officers"],
             responses=documented(200, RulingAnswer, "The ruling, recorded; the owner told",
                                  {403: "NOT_AN_OFFICER", 404: "OBJECTION_NOT_FOUND",
                                   409: "OBJECTION_ALREADY_RULED or CONFLICT"}))
def rule(violation_id: Annotated[str, VIOLATION_ID], body: RulingRequest) -> RulingAnswer:
    officer = officer_from(router.current_event)
    outcome = wiring.objection_desk().rule(violation_id, officer.officer_id, body.decision, body.note)
    violation = outcome.violation
    upheld = violation.status is ViolationStatus.UPHELD
    logger.info("objection ruled", extra={"violation_id": violation_id, "decision": body.decision.value,
                                          "officer": officer.actor, "sms_sent": outcome.sms_sent})
    return RulingAnswer(violation_id=violation_id, status=violation.status, decision=body.decision,
                        deadline_at=violation.deadline_at if upheld else None,
                        amount_due_mru=violation.payable_mru if upheld else None, sms_sent=outcome.sms_sent)
