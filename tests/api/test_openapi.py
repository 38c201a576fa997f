"""The committed OpenAPI document is the code's, and it agrees with the template's routes."""

from __future__ import annotations

import json

from murur.api import errors
from murur.api.openapi import DOCUMENT, main, rendered
from murur.local.gateway import NO_AUTHORIZER, http_api_routes
from murur.local.identity import LOCAL_PARAMETERS
from murur.local.template import REPOSITORY_ROOT, LocalTemplate, load_template

AUTHORIZER_SCHEME = {"KhidmatiAuthorizer": "khidmati", "OfficerAuthorizer": "officers"}


def test_the_committed_document_is_what_the_code_generates() -> None:
    committed = (REPOSITORY_ROOT / DOCUMENT).read_text(encoding="utf-8")
    assert committed == rendered(), "docs/openapi.json is out of date: run python -m murur.api.openapi --write"


def test_the_check_command_fails_on_a_stale_document(tmp_path) -> None:
    stale = tmp_path / "openapi.json"
    stale.write_text(rendered().replace("Object to the violation", "Object"), encoding="utf-8")
    assert main(["--check", "--path", str(stale)]) == 1
    assert main(["--write", "--path", str(stale)]) == 0
    assert main(["--check", "--path", str(stale)]) == 0


def test_every_route_the_function_serves_is_documented_with_its_authorizer() -> None:
    spec = json.loads(rendered())
    routes = [route for route in http_api_routes(LocalTemplate(load_template(), dict(LOCAL_PARAMETERS)))
              if route.function == "ObjectionFunction"]
    documented = {(method.upper(), path) for path, operations in spec["paths"].items() for method in operations}
    assert documented == {(route.method, route.path) for route in routes}
    for route in routes:
        operation = spec["paths"][route.path][route.method.lower()]
        assert route.authorizer != NO_AUTHORIZER
        assert operation["security"] == [{AUTHORIZER_SCHEME[route.authorizer]: []}]
        assert operation["responses"]["401"]["content"]["application/json"]["schema"]["example"] == {
            "message": "Unauthorized"}
        assert operation["responses"]["422"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorAnswer"}
    assert set(spec["components"]["securitySchemes"]) == {"khidmati", "officers"}


def test_every_error_code_has_an_arabic_and_a_french_message() -> None:
    codes = {cls.code for cls in vars(errors).values()
             if isinstance(cls, type) and issubclass(cls, errors.ApiError) and cls is not errors.ApiError}
    assert codes <= set(errors.MESSAGES)
    for code, messages in errors.MESSAGES.items():
        assert set(messages) == {"ar", "fr"}, code
        assert all(text.strip() for text in messages.values()), code


def test_the_deployed_resolver_serves_no_swagger_ui() -> None:
    from murur.api.app import build_app

    event = {"version": "2.0", "routeKey": "GET /swagger", "rawPath": "/swagger", "rawQueryString": "",
             "headers": {"accept-language": "fr"}, "isBase64Encoded": False,
             "requestContext": {"http": {"method": "GET", "path": "/swagger"}, "stage": "$default"}}
    answer = build_app().resolve(event, None)
    assert (answer["statusCode"], json.loads(answer["body"])["code"]) == (404, "NOT_FOUND")
    template_paths = {route.path for route in http_api_routes(LocalTemplate(load_template(), dict(LOCAL_PARAMETERS)))}
    assert not any("swagger" in path for path in template_paths)
