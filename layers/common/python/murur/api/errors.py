"""The API's error answers: `{"code": ..., "message": ..., "fields"?: [...]}`, in Arabic or French.

Routes raise an `ApiError` subclass (or let request validation fail); `build_app()` turns it into the
answer in the caller's language (Accept-Language, Arabic by default). `code` is stable and meant for
programs; `message` is for people. Messages name no personal data (no NNI, plate, phone number).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, ClassVar

from aws_lambda_powertools.event_handler import Response, content_types
from pydantic import BaseModel, Field

from murur.notices import DEFAULT_LANGUAGE, LANGUAGES, Language

# code -> language -> message. One table, so every code has both languages (tests check it).
MESSAGES: dict[str, dict[Language, str]] = {
    "VALIDATION_FAILED": {
        "ar": "الطلب غير صالح: راجع الحقول المذكورة.",
        "fr": "Requête invalide : vérifiez les champs indiqués.",
    },
    "UNAUTHORIZED": {
        "ar": "يجب تسجيل الدخول.",
        "fr": "Authentification requise.",
    },
    "NOT_A_CITIZEN": {
        "ar": "هذا الرمز لا يحدد مواطنا.",
        "fr": "Ce jeton n'identifie pas un citoyen.",
    },
    "NOT_AN_OFFICER": {
        "ar": "هذه الخدمة مخصصة لأعوان الشرطة.",
        "fr": "Ce service est réservé aux agents de police.",
    },
    "VIOLATION_NOT_FOUND": {
        "ar": "المخالفة غير موجودة.",
        "fr": "Infraction introuvable.",
    },
    "OBJECTION_NOT_FOUND": {
        "ar": "لا يوجد اعتراض مفتوح على هذه المخالفة.",
        "fr": "Aucune contestation ouverte pour cette infraction.",
    },
    "OBJECTION_ALREADY_OPEN": {
        "ar": "يوجد اعتراض مفتوح على هذه المخالفة بالفعل.",
        "fr": "Une contestation est déjà ouverte pour cette infraction.",
    },
    "OBJECTION_ALREADY_RULED": {
        "ar": "تم البت في هذا الاعتراض من قبل.",
        "fr": "Cette contestation a déjà été tranchée.",
    },
    "OBJECTION_NOT_ALLOWED": {
        "ar": "لا يمكن الاعتراض على هذه المخالفة في حالتها الحالية.",
        "fr": "Cette infraction ne peut plus être contestée dans son état actuel.",
    },
    "ATTACHMENT_NOT_FOUND": {
        "ar": "المرفق غير موجود أو لم يرفع بعد.",
        "fr": "Pièce jointe introuvable ou pas encore envoyée.",
    },
    "INVALID_PAGE_TOKEN": {
        "ar": "رمز الصفحة غير صالح.",
        "fr": "Jeton de page invalide.",
    },
    "CONFLICT": {
        "ar": "تغيرت حالة المخالفة في الأثناء؛ أعد المحاولة.",
        "fr": "L'infraction a changé entre-temps ; réessayez.",
    },
    "REVIEW_NOT_FOUND": {
        "ar": "طلب المراجعة غير موجود.",
        "fr": "Demande de vérification introuvable.",
    },
    "REVIEW_ALREADY_DECIDED": {
        "ar": "تم البت في هذه المراجعة من قبل.",
        "fr": "Cette vérification a déjà été tranchée.",
    },
    "REVIEW_EXPIRED": {
        "ar": "انتهت مهلة هذه المراجعة؛ لن تصدر عنها مخالفة.",
        "fr": "Le délai de cette vérification est écoulé ; aucune infraction n'en résultera.",
    },
    "NOT_FOUND": {
        "ar": "المسار غير موجود.",
        "fr": "Ressource introuvable.",
    },
    "INTERNAL_ERROR": {
        "ar": "حدث خطأ داخلي؛ أعد المحاولة لاحقا.",
        "fr": "Erreur interne ; réessayez plus tard.",
    },
}

# Pydantic error types -> what a person reads beside the field. Anything else gets "invalid".
FIELD_MESSAGES: dict[str, dict[Language, str]] = {
    "missing": {"ar": "حقل مطلوب", "fr": "champ obligatoire"},
    "string_too_long": {"ar": "النص أطول من المسموح", "fr": "texte trop long"},
    "string_too_short": {"ar": "النص أقصر من المسموح", "fr": "texte trop court"},
    "enum": {"ar": "قيمة غير مقبولة", "fr": "valeur non admise"},
    "literal_error": {"ar": "قيمة غير مقبولة", "fr": "valeur non admise"},
    "int_parsing": {"ar": "يجب أن يكون عددا صحيحا", "fr": "doit être un nombre entier"},
    "greater_than_equal": {"ar": "القيمة صغيرة جدا", "fr": "valeur trop petite"},
    "less_than_equal": {"ar": "القيمة كبيرة جدا", "fr": "valeur trop grande"},
    "too_long": {"ar": "عدد العناصر أكبر من المسموح", "fr": "trop d'éléments"},
    "extra_forbidden": {"ar": "حقل غير معروف", "fr": "champ inconnu"},
    "json_invalid": {"ar": "JSON غير صالح", "fr": "JSON invalide"},
    "model_attributes_type": {"ar": "يجب أن يكون كائن JSON", "fr": "doit être un objet JSON"},
    "string_type": {"ar": "يجب أن يكون نصا", "fr": "doit être un texte"},
    "string_pattern_mismatch": {"ar": "الصيغة غير صحيحة", "fr": "format incorrect"},
    "invalid": {"ar": "قيمة غير صالحة", "fr": "valeur invalide"},
}


def language_from(accept_language: str | None) -> Language:
    """The first of Arabic or French the caller accepts, by q-value; Arabic when neither is named.

    Hand-written: a dozen lines, and the one library that parses the header (babel) is far heavier
    than the layer should carry for it.
    """
    best: tuple[float, int, Language] | None = None
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in LANGUAGES:
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality <= 0:
            continue
        candidate = (-quality, position, primary)
        if best is None or candidate < best:
            best = candidate  # type: ignore[assignment]
    return best[2] if best else DEFAULT_LANGUAGE


class ApiError(Exception):
    """An answer other than success. The exception's own text is for logs (no personal data); the
    caller reads `MESSAGES[code]`."""

    status: ClassVar[HTTPStatus] = HTTPStatus.BAD_REQUEST
    code: ClassVar[str] = "INVALID"


class Unauthorized(ApiError):
    status = HTTPStatus.UNAUTHORIZED
    code = "UNAUTHORIZED"


class NotACitizen(ApiError):
    status = HTTPStatus.FORBIDDEN
    code = "NOT_A_CITIZEN"


class NotAnOfficer(ApiError):
    status = HTTPStatus.FORBIDDEN
    code = "NOT_AN_OFFICER"


class ViolationNotFound(ApiError):
    """Also the answer for another citizen's violation: the two must be indistinguishable."""

    status = HTTPStatus.NOT_FOUND
    code = "VIOLATION_NOT_FOUND"


class ObjectionNotFound(ApiError):
    status = HTTPStatus.NOT_FOUND
    code = "OBJECTION_NOT_FOUND"


class AttachmentNotFound(ApiError):
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "ATTACHMENT_NOT_FOUND"


class ObjectionAlreadyOpen(ApiError):
    status = HTTPStatus.CONFLICT
    code = "OBJECTION_ALREADY_OPEN"


class ObjectionAlreadyRuled(ApiError):
    status = HTTPStatus.CONFLICT
    code = "OBJECTION_ALREADY_RULED"


class ObjectionNotAllowed(ApiError):
    status = HTTPStatus.CONFLICT
    code = "OBJECTION_NOT_ALLOWED"


class InvalidPageToken(ApiError):
    status = HTTPStatus.BAD_REQUEST
    code = "INVALID_PAGE_TOKEN"


class ReviewNotFound(ApiError):
    status = HTTPStatus.NOT_FOUND
    code = "REVIEW_NOT_FOUND"


class ReviewAlreadyDecided(ApiError):
    status = HTTPStatus.CONFLICT
    code = "REVIEW_ALREADY_DECIDED"


class ReviewExpired(ApiError):
    """Nobody decided within ReviewTimeoutSeconds: the frame is REVIEW_EXPIRED, nothing is issued."""

    status = HTTPStatus.CONFLICT
    code = "REVIEW_EXPIRED"


class Conflict(ApiError):
    """The record changed between read and write (a conditional write lost): decide again."""

    status = HTTPStatus.CONFLICT
    code = "CONFLICT"


class FieldError(BaseModel):
    field: str = Field(description="Where: body.<name>, query.<name> or path.<name>")
    type: str = Field(description="What is wrong, as pydantic names it (missing, string_too_long, enum ...)")
    message: str


class ErrorAnswer(BaseModel):
    """Every error the functions answer (API Gateway's own 401 is {"message": "Unauthorized"})."""

    code: str = Field(description="Stable, for programs: VALIDATION_FAILED, VIOLATION_NOT_FOUND ...")
    message: str = Field(description="For people, in Arabic or French by Accept-Language")
    fields: list[FieldError] | None = Field(default=None, description="VALIDATION_FAILED only")


def documented(success: int, model: type[BaseModel], description: str,
               errors: dict[int, str] | None = None) -> dict[int, Any]:
    """A route's `responses` for the OpenAPI document: its answer, and its errors as ErrorAnswer."""
    responses: dict[int, Any] = {success: {"description": description,
                                           "content": {"application/json": {"model": model}}}}
    for status, codes in (errors or {}).items():
        responses[status] = {"description": codes, "content": {"application/json": {"model": ErrorAnswer}}}
    return responses


def error_body(code: str, language: Language, fields: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": MESSAGES[code][language]}
    if fields is not None:
        body["fields"] = fields
    return body


def error_response(status: int, code: str, language: Language,
                   fields: list[dict[str, Any]] | None = None) -> Response:
    return Response(status_code=int(status), content_type=content_types.APPLICATION_JSON,
                    body=error_body(code, language, fields), headers={"Content-Language": language})


def validation_fields(errors: list[dict[str, Any]], language: Language) -> list[dict[str, Any]]:
    """Pydantic's errors as {field, type, message}; never the rejected value (it may be personal data)."""
    fields = []
    for error in errors:
        location = [str(part) for part in error.get("loc", ())]
        kind = str(error.get("type", "invalid"))
        fields.append({
            "field": ".".join(location),
            "type": kind,
            "message": FIELD_MESSAGES.get(kind, FIELD_MESSAGES["invalid"])[language],
        })
    return fields
