"""The API's OpenAPI document, generated from the routes; committed as docs/openapi.json.

    python -m murur.api.openapi --write    regenerate docs/openapi.json after changing a route
    python -m murur.api.openapi --check    exit 1 when the committed document differs (tests do this too)

Powertools generates the paths, parameters and models. Three things it cannot know are added here,
the same way for every route: the error answer (`ErrorAnswer`) for every 4xx, 422 included in
place of Powertools' own validation schema, the gateway's 401, and which authorizer guards the route (officers' routes
live under /officer/, everything else is Khidmati's), matching template.yaml's HttpApi events.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from murur.api.app import openapi_json

DOCUMENT = Path("docs/openapi.json")
_REF = "#/components/schemas/"
_GATEWAY_401 = {
    "description": "No token, or one API Gateway's JWT authorizer refuses (expired, wrong issuer or audience)",
    "content": {"application/json": {"schema": {"type": "object", "properties": {"message": {"type": "string"}},
                                                "example": {"message": "Unauthorized"}}}},
}
_VALIDATION_422 = {
    "description": "VALIDATION_FAILED: what is wrong, field by field, in `fields`",
    "content": {"application/json": {"schema": {"$ref": f"{_REF}ErrorAnswer"}}},
}


def document() -> dict[str, Any]:
    spec = json.loads(openapi_json())
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    for path, operations in spec.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            validation = responses.get("422", {}).get("content", {}).get("application/json", {}).get("schema", {})
            if validation.get("$ref") == f"{_REF}HTTPValidationError":
                responses["422"] = _VALIDATION_422
            # Every error the function answers is an ErrorAnswer (build_app's handlers shape them all).
            for status, response in responses.items():
                if int(status) >= 400 and "content" in response:
                    response["content"] = {"application/json": {"schema": {"$ref": f"{_REF}ErrorAnswer"}}}
            responses["401"] = _GATEWAY_401
            operation["security"] = [{"officers": []}] if path.startswith("/officer/") else [{"khidmati": []}]
    if "ErrorAnswer" not in schemas:
        from murur.api.errors import ErrorAnswer

        schema = ErrorAnswer.model_json_schema(ref_template=_REF + "{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas["ErrorAnswer"] = schema
    text = json.dumps(spec)
    for unused in ("HTTPValidationError", "ValidationError"):
        if f'"{_REF}{unused}"' not in text:
            schemas.pop(unused, None)
    return spec


def rendered() -> str:
    return json.dumps(document(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m murur.api.openapi", description=__doc__.splitlines()[0])
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", action="store_true", help=f"write {DOCUMENT}")
    action.add_argument("--check", action="store_true", help=f"exit 1 when {DOCUMENT} is not up to date")
    parser.add_argument("--path", type=Path, default=DOCUMENT)
    arguments = parser.parse_args(argv)
    text = rendered()
    if arguments.write:
        arguments.path.write_text(text, encoding="utf-8")
        print(f"wrote {arguments.path}")
    elif arguments.check:
        if not arguments.path.is_file() or arguments.path.read_text(encoding="utf-8") != text:
            print(f"{arguments.path} is out of date: run python -m murur.api.openapi --write", file=sys.stderr)
            return 1
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
