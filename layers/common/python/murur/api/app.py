"""The API's one resolver: every citizens' and officers' route, each router owned by its module.

ObjectionFunction (functions/objection/app.py) serves it behind API Gateway; the local gateway
(murur.local.gateway) invokes that same function. `build_app()` makes a fresh resolver each call,
so tests and the OpenAPI generator never share state with a running handler.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, Server
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from murur.api import black_spots, citizens, errors, reviews, rulings
from murur.api.errors import (
    ApiError,
    Conflict,
    NotAnOfficer,
    error_body,
    error_response,
    language_from,
    validation_fields,
)
from murur.api.identity import officer_from
from murur.errors import TransitionRefused
from murur.objections import (
    AlreadyRuled,
    AttachmentMissing,
    NoObjection,
    NotObjectable,
    NotTheOwnersViolation,
    ObjectionAlreadyFiled,
)
from murur.violations import InvalidCursor

logger = Logger(child=True)

TITLE = "Murur API"
VERSION = "1.0.0"
DESCRIPTION = (
    "Citizens' routes are called by Khidmati on behalf of a signed-in citizen (Khidmati JWT, the NNI in "
    "claim `nni`); `/officer/*` routes take an officers' Cognito token of group `officers`. Errors are "
    "`{code, message}` with the message in Arabic or French by Accept-Language (Arabic by default)."
)
# The domain's refusals, as the API answers them.
DOMAIN_ERRORS: dict[type[Exception], type[ApiError]] = {
    NotTheOwnersViolation: errors.ViolationNotFound,
    ObjectionAlreadyFiled: errors.ObjectionAlreadyOpen,
    NotObjectable: errors.ObjectionNotAllowed,
    AttachmentMissing: errors.AttachmentNotFound,
    NoObjection: errors.ObjectionNotFound,
    AlreadyRuled: errors.ObjectionAlreadyRuled,
    InvalidCursor: errors.InvalidPageToken,
}
SECURITY_SCHEMES = {
    "khidmati": HTTPBearer(description="JWT from Khidmati's identity provider; the citizen's NNI is claim `nni`."),
    "officers": HTTPBearer(description="Officers' Cognito user pool token (group `officers`)."),
}
OFFICERS_PREFIX = "/officer/"


class MururResolver(APIGatewayHttpResolver):
    """Powertools' resolver, which first refuses anyone but an officer on /officer/ routes: before
    request validation runs, so a non-officer learns nothing of those routes' bodies, not even their
    field names. The gateway's OfficerAuthorizer has already refused every token not from the officers'
    pool; this is the group check, once for every officers' router."""

    def resolve(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        request = APIGatewayProxyEventV2(event)
        if request.path.startswith(OFFICERS_PREFIX):
            try:
                officer_from(request)
            except NotAnOfficer as error:
                language = language_from(request.headers.get("accept-language"))
                logger.info("request refused", extra={"code": error.code, "reason": str(error)})
                return {"statusCode": int(error.status), "isBase64Encoded": False,
                        "headers": {"Content-Type": "application/json", "Content-Language": language},
                        "body": json.dumps(error_body(error.code, language), ensure_ascii=False,
                                           separators=(",", ":"))}
        return super().resolve(event, context)


def build_app() -> APIGatewayHttpResolver:
    app = MururResolver(enable_validation=True)
    for module in (citizens, rulings, reviews, black_spots):
        app.include_router(module.router)

    def language() -> Any:
        event = app.current_event
        return language_from(event.headers.get("accept-language") if event is not None else None)

    @app.exception_handler(ApiError)
    def api_error(error: ApiError) -> Response:
        # The exception's text names no personal data (see murur.api.errors).
        logger.info("request refused", extra={"code": error.code, "reason": str(error)})
        return error_response(error.status, error.code, language())

    @app.exception_handler(list(DOMAIN_ERRORS))
    def refused(error: Exception) -> Response:
        answer = DOMAIN_ERRORS[type(error)]
        logger.info("request refused", extra={"code": answer.code, "reason": str(error)})
        return error_response(answer.status, answer.code, language())

    @app.exception_handler(TransitionRefused)
    def lost_race(error: TransitionRefused) -> Response:
        logger.info("status change refused", extra={"code": Conflict.code, "reason": str(error)})
        return error_response(Conflict.status, Conflict.code, language())

    @app.exception_handler(RequestValidationError)
    def invalid_request(error: RequestValidationError) -> Response:
        lang = language()
        fields = validation_fields(list(error.errors()), lang)
        # Field names and error types only: the rejected values may be personal data.
        logger.info("request invalid", extra={"fields": [(f["field"], f["type"]) for f in fields]})
        return error_response(422, "VALIDATION_FAILED", lang, fields)

    @app.exception_handler(NotFoundError)
    def no_route(_: NotFoundError) -> Response:
        return error_response(404, "NOT_FOUND", language())

    return app


def openapi_json(app: APIGatewayHttpResolver | None = None) -> str:
    """The OpenAPI document of the routes, as committed in docs/openapi.json."""
    return (app or build_app()).get_openapi_json_schema(
        title=TITLE, version=VERSION, description=DESCRIPTION,
        servers=[Server(url="/")], security_schemes=SECURITY_SCHEMES,
    )
