"""The HTTP API, emulated from template.yaml: routes, JWT authorizers, payload format 2.0, Lambda proxy.

API Gateway is not in moto in a form that runs JWT authorizers and invokes functions, so this small
emulator stands in for it, driven by the template alone:
- routes come from every function's `HttpApi` events (`{name}` path parameters, `{name+}` greedy);
- each route's authorizer is its event's `Auth.Authorizer`, else the API's `DefaultAuthorizer`
  (`NONE`: no check); a JWT authorizer checks the token from its identity source (signature with the
  local key pair of murur.local.identity, issuer, audience or client_id, expiry) and answers 401
  `{"message":"Unauthorized"}` itself, as API Gateway does, without invoking the function;
- the function gets the API Gateway v2 event (claims under requestContext.authorizer.jwt.claims,
  lower-cased headers, pathParameters, rawPath with the stage) through the local Lambda dispatch;
  a function that raises is a 500 `{"message":"Internal Server Error"}`, as API Gateway answers.
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jwt

from murur.local.functions import FunctionError, LocalFunctions
from murur.local.template import LocalTemplate

NO_AUTHORIZER = "NONE"


@dataclass(frozen=True)
class JwtAuthorizer:
    name: str
    issuer: str
    audiences: tuple[str, ...]
    identity_source: str = "$request.header.Authorization"

    def claims(self, headers: dict[str, str]) -> dict[str, Any] | None:
        """The verified claims, or None where API Gateway would answer 401."""
        from murur.local.identity import public_key

        header = self.identity_source.removeprefix("$request.header.").lower()
        token = headers.get(header, "").strip()
        if token.lower().startswith("bearer "):
            token = token[7:].strip()
        if not token:
            return None
        try:
            claims = jwt.decode(token, public_key(), algorithms=["RS256"], issuer=self.issuer,
                                options={"verify_aud": False, "require": ["exp", "iss"]})
        except jwt.PyJWTError:
            return None
        # API Gateway accepts a token whose aud, or else whose client_id (Cognito access tokens), is listed.
        audience = claims.get("aud", claims.get("client_id"))
        audiences = audience if isinstance(audience, list) else [audience]
        if not any(value in self.audiences for value in audiences):
            return None
        return claims


@dataclass(frozen=True)
class Route:
    method: str  # GET, POST ... or ANY
    path: str  # as declared, e.g. /violations/{violation_id}
    function: str  # logical id
    authorizer: str  # a JwtAuthorizer's name, or NONE
    pattern: re.Pattern[str] = field(compare=False, repr=False)

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def specificity(self) -> tuple[int, int, int]:
        """API Gateway prefers exact routes, then fewer parameters, greedy ones last."""
        return (self.path.count("+}"), self.path.count("{"), 0 if self.method != "ANY" else 1)


@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: str

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def _pattern(path: str) -> re.Pattern[str]:
    parts = []
    for segment in path.strip("/").split("/"):
        greedy = re.fullmatch(r"\{(\w+)\+\}", segment)
        plain = re.fullmatch(r"\{(\w+)\}", segment)
        if greedy:
            parts.append(f"(?P<{greedy.group(1)}>.+)")
        elif plain:
            parts.append(f"(?P<{plain.group(1)}>[^/]+)")
        else:
            parts.append(re.escape(segment))
    return re.compile("^/" + "/".join(parts) + "$")


def jwt_authorizers(template: LocalTemplate, api: str = "Api") -> dict[str, JwtAuthorizer]:
    auth = template.resources[api]["Properties"].get("Auth", {})
    return {
        name: JwtAuthorizer(
            name=name,
            issuer=str(template.resolve(spec["JwtConfiguration"]["issuer"])),
            audiences=tuple(str(value) for value in template.resolve(spec["JwtConfiguration"]["audience"])),
            identity_source=str(spec.get("IdentitySource", "$request.header.Authorization")),
        )
        for name, spec in auth.get("Authorizers", {}).items()
        if "JwtConfiguration" in spec
    }


def http_api_routes(template: LocalTemplate, api: str = "Api") -> list[Route]:
    """Every HttpApi event of every function that targets `api`, most specific first."""
    default = template.resources[api]["Properties"].get("Auth", {}).get("DefaultAuthorizer", NO_AUTHORIZER)
    routes = []
    for logical_id, spec in template.of_type("AWS::Serverless::Function").items():
        for event in spec["Properties"].get("Events", {}).values():
            if event["Type"] != "HttpApi":
                continue
            properties = event.get("Properties", {})
            if properties.get("ApiId", {"Ref": api}) != {"Ref": api}:
                continue
            path = properties["Path"]
            routes.append(Route(
                method=str(properties.get("Method", "ANY")).upper(), path=path, function=logical_id,
                authorizer=properties.get("Auth", {}).get("Authorizer", default), pattern=_pattern(path),
            ))
    return sorted(routes, key=lambda route: route.specificity)


class HttpApiGateway:
    """`request()` answers as the deployed HTTP API would, invoking the local functions."""

    def __init__(self, template: LocalTemplate, functions: LocalFunctions, api: str = "Api") -> None:
        self.template = template
        self.functions = functions
        self.stage = str(template.resolve(template.resources[api]["Properties"].get("StageName", "$default")))
        self.routes = http_api_routes(template, api)
        self.authorizers = jwt_authorizers(template, api)
        unknown = {route.authorizer for route in self.routes} - set(self.authorizers) - {NO_AUTHORIZER}
        if unknown:
            raise ValueError(f"routes name authorizers the API does not declare: {sorted(unknown)}")

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            if route.method not in (method, "ANY"):
                continue
            found = route.pattern.match(path)
            if found:
                return route, found.groupdict()
        return None

    def request(self, method: str, target: str, *, headers: dict[str, str] | None = None,
                body: str | bytes | None = None) -> HttpResponse:
        method = method.upper()
        url = urlsplit(target)
        path = url.path or "/"
        lowered: dict[str, str] = {}
        for name, value in (headers or {}).items():
            lowered[name.lower()] = f"{lowered[name.lower()]},{value}" if name.lower() in lowered else str(value)
        matched = self.match(method, path)
        if matched is None:
            return _gateway_answer(404, "Not Found")
        route, path_parameters = matched
        claims: dict[str, Any] | None = None
        if route.authorizer != NO_AUTHORIZER:
            claims = self.authorizers[route.authorizer].claims(lowered)
            if claims is None:
                return _gateway_answer(401, "Unauthorized", {"www-authenticate": "Bearer"})
        event = self._event(method, route, url.query, path, path_parameters, lowered, body, claims)
        try:
            result = self.functions.invoke(route.function, event)
        except FunctionError:
            return _gateway_answer(500, "Internal Server Error")
        return _proxy_answer(result)

    def _event(self, method: str, route: Route, query: str, path: str, path_parameters: dict[str, str],
               headers: dict[str, str], body: str | bytes | None, claims: dict[str, Any] | None) -> dict[str, Any]:
        now = datetime.now(UTC)
        parameters: dict[str, str] = {}
        for name, value in parse_qsl(query, keep_blank_values=True):
            parameters[name] = f"{parameters[name]},{value}" if name in parameters else value
        encoded = isinstance(body, bytes)
        if isinstance(body, bytes):
            try:
                body, encoded = body.decode("utf-8"), False
            except UnicodeDecodeError:
                body = base64.b64encode(body).decode()
        raw_path = path if self.stage == "$default" else f"/{self.stage}{path}"
        context: dict[str, Any] = {
            "accountId": self.template.account_id,
            "apiId": "local",
            "domainName": "local.execute-api.localhost",
            "domainPrefix": "local",
            "http": {"method": method, "path": raw_path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                     "userAgent": headers.get("user-agent", "")},
            "requestId": str(uuid.uuid4()),
            "routeKey": route.route_key,
            "stage": self.stage,
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(time.time() * 1000),
        }
        if claims is not None:
            context["authorizer"] = {"jwt": {"claims": _claims_as_gateway_passes_them(claims), "scopes": None}}
        event: dict[str, Any] = {
            "version": "2.0",
            "routeKey": route.route_key,
            "rawPath": raw_path,
            "rawQueryString": query,
            "headers": headers,
            "requestContext": context,
            "isBase64Encoded": encoded,
        }
        if parameters:
            event["queryStringParameters"] = parameters
        if path_parameters:
            event["pathParameters"] = path_parameters
        if body is not None:
            event["body"] = body
        if "cookie" in headers:
            event["cookies"] = [cookie.strip() for cookie in headers["cookie"].split(";")]
        return event


def _claims_as_gateway_passes_them(claims: dict[str, Any]) -> dict[str, str]:
    """API Gateway hands JWT claims to the function as strings; a list becomes "[a b]"."""
    def text(value: Any) -> str:
        if isinstance(value, list):
            return "[" + " ".join(str(item) for item in value) + "]"
        return str(value)

    return {name: text(value) for name, value in claims.items()}


def _gateway_answer(status: int, message: str, headers: dict[str, str] | None = None) -> HttpResponse:
    return HttpResponse(status, {"content-type": "application/json", **(headers or {})},
                        json.dumps({"message": message}))


def _proxy_answer(result: Any) -> HttpResponse:
    """Payload format 2.0's response: a dict with statusCode, or anything else as a 200 JSON body."""
    if not isinstance(result, dict) or "statusCode" not in result:
        return HttpResponse(200, {"content-type": "application/json"}, json.dumps(result))
    headers = {name.lower(): str(value) for name, value in (result.get("headers") or {}).items()}
    if result.get("cookies"):
        headers["set-cookie"] = ", ".join(result["cookies"])
    body = result.get("body") or ""
    if result.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("utf-8", errors="replace")
    return HttpResponse(int(result["statusCode"]), headers, body)


# ------------------------------------------------------------------ a real port for `serve`
def swagger_page() -> str:
    """Swagger UI over docs/openapi.json's document, with Powertools' bundled assets (no network).
    Served by the local HTTP server only: the deployed function has no such route."""
    from importlib.resources import files

    from murur.api.openapi import document

    assets = files("aws_lambda_powertools.event_handler.openapi.swagger_ui")
    from aws_lambda_powertools.event_handler.openapi.swagger_ui.html import generate_swagger_html

    spec = json.dumps(document()).replace("</", "<\\/")
    return generate_swagger_html(spec, assets.joinpath("swagger-ui-bundle.min.js").read_text(encoding="utf-8"),
                                 assets.joinpath("swagger-ui.min.css").read_text(encoding="utf-8"), "", None)


def serve_http(request: Any, port: int = 8080, host: str = "127.0.0.1") -> Any:
    """An HTTP server on host:port in a daemon thread, answering through `request(method, path, headers,
    body) -> HttpResponse` (LocalStack's gateway), plus GET /swagger. Returns the server (shutdown())."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            if self.command == "GET" and urlsplit(self.path).path in {"/swagger", "/swagger/"}:
                page = swagger_page().encode()
                self._send(200, {"content-type": "text/html; charset=utf-8"}, page)
                return
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else None
            response = request(self.command, self.path, dict(self.headers.items()), body)
            self._send(response.status, response.headers, response.body.encode())

        def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            pass  # requests carry tokens: nothing is logged

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True, name="murur-local-http").start()
    return server
