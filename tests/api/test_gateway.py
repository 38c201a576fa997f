"""The local HTTP API emulator: routes and authorizers from template.yaml, API Gateway's v2 event."""

from __future__ import annotations

from murur.local import LocalStack
from murur.local.gateway import http_api_routes, jwt_authorizers
from murur.local.identity import LOCAL_KHIDMATI_ISSUER, LOCAL_PARAMETERS, citizen_token, officer_token
from murur.local.template import LocalTemplate, load_template

from .conftest import OWNER_NNI, OWNER_VIOLATIONS


def template() -> LocalTemplate:
    return LocalTemplate(load_template(), dict(LOCAL_PARAMETERS))


def test_authorizers_are_the_templates_with_the_local_issuer() -> None:
    authorizers = jwt_authorizers(template())
    assert authorizers["KhidmatiAuthorizer"].issuer == LOCAL_KHIDMATI_ISSUER
    assert authorizers["KhidmatiAuthorizer"].audiences == ("murur",)  # the KhidmatiAudience default
    officers = authorizers["OfficerAuthorizer"]
    assert officers.issuer == "https://cognito-idp.us-east-1.amazonaws.com/murur-local-OfficersUserPool"
    assert officers.audiences == ("murur-local-OfficersUserPoolClient",)


def test_routes_come_from_every_functions_httpapi_events() -> None:
    routes = {route.route_key: route for route in http_api_routes(template())}
    assert routes["GET /violations"].authorizer == "KhidmatiAuthorizer"  # the API's default
    assert routes["POST /officer/objections/{violation_id}/ruling"].authorizer == "OfficerAuthorizer"
    assert routes["POST /payments/{provider}/webhook"].authorizer == "NONE"
    assert routes["POST /payments/{provider}/webhook"].function == "PaymentWebhookFunction"
    assert routes["GET /violations/{violation_id}"].function == "ObjectionFunction"


def test_the_function_gets_api_gateways_v2_event(api_stack: LocalStack) -> None:
    token = citizen_token(OWNER_NNI)
    response = api_stack.http("GET", f"/violations/{OWNER_VIOLATIONS[0]}?a=1&a=2&b=", token=token,
                              headers={"Accept-Language": "fr", "X-Custom": "one"})
    assert response.status == 200
    (call,) = [c for c in api_stack.functions.invocations if c.function == "ObjectionFunction"]
    event = call.event
    assert event["version"] == "2.0"
    assert event["routeKey"] == "GET /violations/{violation_id}"
    assert event["rawPath"] == f"/dev/violations/{OWNER_VIOLATIONS[0]}"  # the stage (Stage's default) first
    assert event["requestContext"]["stage"] == "dev"
    assert event["pathParameters"] == {"violation_id": OWNER_VIOLATIONS[0]}
    assert event["queryStringParameters"] == {"a": "1,2", "b": ""}
    assert event["headers"]["accept-language"] == "fr" and event["headers"]["x-custom"] == "one"
    assert event["headers"]["authorization"] == f"Bearer {token}"
    claims = event["requestContext"]["authorizer"]["jwt"]["claims"]
    assert (claims["nni"], claims["iss"], claims["aud"]) == (OWNER_NNI, LOCAL_KHIDMATI_ISSUER, "murur")
    assert all(isinstance(value, str) for value in claims.values())


def test_officer_groups_reach_the_function_as_api_gateway_passes_them(api_stack: LocalStack) -> None:
    assert api_stack.http("GET", "/officer/objections", token=officer_token("o-1", groups=("a", "officers"))).status == 200
    (call,) = [c for c in api_stack.functions.invocations if c.function == "ObjectionFunction"]
    assert call.event["requestContext"]["authorizer"]["jwt"]["claims"]["cognito:groups"] == "[a officers]"


def test_the_gateway_answers_401_and_404_itself_without_invoking(api_stack: LocalStack) -> None:
    before = len(api_stack.functions.invocations)
    assert api_stack.http("GET", "/violations").json() == {"message": "Unauthorized"}
    assert api_stack.http("GET", "/violations", token="not.a.jwt").status == 401
    assert api_stack.http("GET", "/violations", headers={"Authorization": citizen_token(OWNER_NNI)}).status == 200
    assert api_stack.http("DELETE", "/violations", token=citizen_token(OWNER_NNI)).status == 404
    assert api_stack.http("GET", "/nowhere", token=citizen_token(OWNER_NNI)).json() == {"message": "Not Found"}
    assert len(api_stack.functions.invocations) == before + 1  # only the "Authorization" without Bearer


def test_a_function_that_raises_is_a_500(api_stack: LocalStack) -> None:
    api_stack.functions.fault_injections["ObjectionFunction"] = RuntimeError("boom")
    response = api_stack.http("GET", "/violations", token=citizen_token(OWNER_NNI))
    assert (response.status, response.json()) == (500, {"message": "Internal Server Error"})


def test_serve_exposes_the_api_and_swagger_ui_on_a_local_port(api_stack: LocalStack) -> None:
    import json
    import urllib.error
    import urllib.request

    from murur.local.gateway import serve_http

    server = serve_http(lambda method, path, headers, body: api_stack.http(method, path, headers=headers, body=body),
                        port=0)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        request = urllib.request.Request(f"{base}/violations?limit=2",
                                         headers={"Authorization": f"Bearer {citizen_token(OWNER_NNI)}"})
        with urllib.request.urlopen(request) as response:
            assert len(json.loads(response.read())["violations"]) == 2
        objection = urllib.request.Request(
            f"{base}/violations/{OWNER_VIOLATIONS[0]}/objection", method="POST",
            data=json.dumps({"reason": "OTHER"}).encode(),
            headers={"Authorization": f"Bearer {citizen_token(OWNER_NNI)}", "Content-Type": "application/json"})
        with urllib.request.urlopen(objection) as response:
            assert (response.status, json.loads(response.read())["status"]) == (201, "OBJECTED")
        try:
            urllib.request.urlopen(f"{base}/violations")
            raise AssertionError("no token must be refused")
        except urllib.error.HTTPError as error:
            assert error.code == 401
        with urllib.request.urlopen(f"{base}/swagger") as response:
            page = response.read().decode()
        assert "swagger-ui" in page and "/officer/objections/{violation_id}/ruling" in page
        assert "https://" not in page.split("<script>")[0]  # assets inline: nothing fetched from a CDN
    finally:
        server.shutdown()
