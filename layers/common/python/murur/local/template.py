"""template.yaml, read and resolved for the local stack.

The local stack provisions exactly what the SAM template declares, so the template is parsed here
(cfn-lint's decoder, which understands the short-form tags) and its intrinsic functions are resolved
to local names. Only the intrinsics the template uses are supported: CloudFormation itself is not
available offline (moto's CloudFormation cannot create a SAM-translated stack), so this small
resolver stands in for it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from cfnlint.decode import decode_str



def _repository_root() -> Path:
    """The checkout holding template.yaml: the local stack runs from a source tree, not a layer."""
    for directory in [*Path(__file__).resolve().parents, *Path.cwd().resolve().parents, Path.cwd()]:
        if (directory / "template.yaml").is_file() and (directory / "statemachine").is_dir():
            return directory
    raise FileNotFoundError("template.yaml not found above murur.local or the working directory")


REPOSITORY_ROOT = _repository_root()
TEMPLATE_PATH = REPOSITORY_ROOT / "template.yaml"

_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


class TemplateError(Exception):
    """template.yaml uses something the local stack cannot resolve."""


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    template, problems = decode_str(path.read_text(encoding="utf-8"))
    if problems or template is None:
        raise TemplateError(f"{path} does not parse: {[str(p) for p in problems]}")
    return _plain(template)


def _plain(node: Any) -> Any:
    """cfn-lint's nodes carry line marks; plain dicts and lists are easier to compare and copy."""
    if isinstance(node, dict):
        return {str(key): _plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_plain(item) for item in node]
    if isinstance(node, str):
        return str(node)
    return node


@dataclass
class LocalTemplate:
    """The template with its parameters bound and every resource given a local physical name."""

    template: dict[str, Any]
    parameters: dict[str, str] = field(default_factory=dict)
    region: str = "us-east-1"
    account_id: str = "123456789012"
    stack_name: str = "murur-local"

    def __post_init__(self) -> None:
        declared = self.template.get("Parameters", {})
        unknown = set(self.parameters) - set(declared)
        if unknown:
            raise TemplateError(f"unknown template parameters: {sorted(unknown)}")
        bound = {name: str(spec.get("Default", "")) for name, spec in declared.items()}
        bound.update({name: str(value) for name, value in self.parameters.items()})
        self.parameters = bound

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.template["Resources"]

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {name: spec for name, spec in self.resources.items() if spec["Type"] == resource_type}

    @property
    def stage(self) -> str:
        return self.parameters.get("Stage", "local")

    # -------------------------------------------------------------- physical names
    @cached_property
    def physical_names(self) -> dict[str, str]:
        names: dict[str, str] = {}
        for logical_id, spec in self.resources.items():
            properties = spec.get("Properties", {})
            explicit = {
                "AWS::Events::EventBus": "Name",
                "AWS::SSM::Parameter": "Name",
                "AWS::Serverless::StateMachine": "Name",
                "AWS::Logs::LogGroup": "LogGroupName",
                "AWS::Serverless::LayerVersion": "LayerName",
            }.get(spec["Type"])
            if explicit and explicit in properties:
                names[logical_id] = self._resolve_without_names(properties[explicit])
            elif spec["Type"] == "AWS::Glue::Database":
                names[logical_id] = self._resolve_without_names(properties["DatabaseInput"]["Name"])
            elif spec["Type"] == "AWS::Glue::Table":
                names[logical_id] = self._resolve_without_names(properties["TableInput"]["Name"])
            elif spec["Type"] == "AWS::Athena::WorkGroup":
                names[logical_id] = self._resolve_without_names(properties["Name"])
            elif spec["Type"] == "AWS::S3::Bucket":
                names[logical_id] = f"{self.stack_name}-{logical_id}".lower()
            else:
                names[logical_id] = f"{self.stack_name}-{logical_id}"
        return names

    def _resolve_without_names(self, value: Any) -> str:
        # Explicit names only use parameters and pseudo parameters, never other resources.
        return self.resolve(value, _names_ready=False)

    def arn(self, logical_id: str) -> str:
        spec_type = self.resources[logical_id]["Type"]
        name = self.physical_names[logical_id]
        region, account = self.region, self.account_id
        return {
            "AWS::DynamoDB::Table": f"arn:aws:dynamodb:{region}:{account}:table/{name}",
            "AWS::S3::Bucket": f"arn:aws:s3:::{name}",
            "AWS::Serverless::Function": f"arn:aws:lambda:{region}:{account}:function:{name}",
            "AWS::Serverless::StateMachine": f"arn:aws:states:{region}:{account}:stateMachine:{name}",
            "AWS::Events::EventBus": f"arn:aws:events:{region}:{account}:event-bus/{name}",
            "AWS::SNS::Topic": f"arn:aws:sns:{region}:{account}:{name}",
            "AWS::Logs::LogGroup": f"arn:aws:logs:{region}:{account}:log-group:{name}:*",
            "AWS::SSM::Parameter": f"arn:aws:ssm:{region}:{account}:parameter{name}",
            "AWS::SQS::Queue": f"arn:aws:sqs:{region}:{account}:{name}",
        }[spec_type]

    def queue_url(self, logical_id: str) -> str:
        """What !Ref gives for a queue: its URL (moto's form)."""
        return f"https://sqs.{self.region}.amazonaws.com/{self.account_id}/{self.physical_names[logical_id]}"

    def ref(self, name: str, *, _names_ready: bool = True) -> str:
        pseudo = {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::Partition": "aws",
            "AWS::StackName": self.stack_name,
            "AWS::URLSuffix": "amazonaws.com",
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if not _names_ready:
            raise TemplateError(f"a resource name refers to another resource: {name}")
        if name not in self.resources:
            raise TemplateError(f"!Ref to an unknown name: {name}")
        # What CloudFormation returns for !Ref: an ARN for these types, the name otherwise.
        if self.resources[name]["Type"] in {"AWS::Serverless::StateMachine", "AWS::SNS::Topic"}:
            return self.arn(name)
        if self.resources[name]["Type"] == "AWS::SQS::Queue":
            return self.queue_url(name)
        return self.physical_names[name]

    def get_att(self, logical_id: str, attribute: str) -> str:
        if logical_id not in self.resources:
            raise TemplateError(f"!GetAtt on an unknown resource: {logical_id}")
        if attribute == "Arn":
            return self.arn(logical_id)
        if attribute in {"Name", "QueueName"}:
            return self.physical_names[logical_id]
        if attribute == "StreamArn" and self.resources[logical_id]["Type"] == "AWS::DynamoDB::Table":
            # The real label is moto's creation time; LocalStack.stream_arn(table) looks it up.
            return f"{self.arn(logical_id)}/stream/*"
        raise TemplateError(f"!GetAtt {logical_id}.{attribute} is not supported locally")

    # -------------------------------------------------------------- intrinsics
    def resolve(self, value: Any, *, _names_ready: bool = True) -> Any:
        if isinstance(value, list):
            return [self.resolve(item, _names_ready=_names_ready) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, argument), = value.items()
            if key == "Ref":
                return self.ref(argument, _names_ready=_names_ready)
            if key == "Fn::GetAtt":
                logical_id, attribute = argument.split(".", 1) if isinstance(argument, str) else argument
                return self.get_att(logical_id, attribute)
            if key == "Fn::Sub":
                return self._sub(argument, _names_ready)
            if key == "Fn::Join":
                separator, items = argument
                return separator.join(str(item) for item in self.resolve(items, _names_ready=_names_ready))
            if key == "Fn::Select":
                index, items = argument
                return self.resolve(items, _names_ready=_names_ready)[int(index)]
            if key.startswith("Fn::") or key == "Condition":
                raise TemplateError(f"{key} is not supported by the local stack")
        return {key: self.resolve(item, _names_ready=_names_ready) for key, item in value.items()}

    def _sub(self, argument: Any, names_ready: bool) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        local = {name: self.resolve(item, _names_ready=names_ready) for name, item in variables.items()}

        def replace(match: re.Match[str]) -> str:
            expression = match.group(1)
            if expression in local:
                return str(local[expression])
            if "." in expression:
                logical_id, attribute = expression.split(".", 1)
                return self.get_att(logical_id, attribute)
            return self.ref(expression, _names_ready=names_ready)

        # "${!name}" is CloudFormation's escape for a literal "${name}" (e.g. Athena's path templates).
        return _SUB_VARIABLE.sub(replace, text).replace("${!", "${")

    # -------------------------------------------------------------- what the stack needs
    def function_environment(self, logical_id: str) -> dict[str, str]:
        """Globals' variables overlaid with the function's own, as SAM merges them."""
        global_variables = self.template.get("Globals", {}).get("Function", {}).get("Environment", {})
        own_variables = self.resources[logical_id]["Properties"].get("Environment", {})
        merged = {**global_variables.get("Variables", {}), **own_variables.get("Variables", {})}
        return {name: str(self.resolve(value)) for name, value in merged.items()}

    def function_property(self, logical_id: str, name: str) -> Any:
        own = self.resources[logical_id]["Properties"]
        if name in own:
            return self.resolve(own[name])
        return self.resolve(self.template.get("Globals", {}).get("Function", {}).get(name))

    def function_code_path(self, logical_id: str) -> Path:
        code_uri = self.function_property(logical_id, "CodeUri")
        handler = self.function_property(logical_id, "Handler")
        module, _, _function = handler.rpartition(".")
        return REPOSITORY_ROOT / code_uri / f"{module.replace('.', '/')}.py"

    def function_handler_name(self, logical_id: str) -> str:
        return self.function_property(logical_id, "Handler").rpartition(".")[2]

    def event_rules(self, logical_id: str) -> list[dict[str, Any]]:
        """The resolved EventBridge patterns that invoke this function."""
        events = self.resources[logical_id]["Properties"].get("Events", {})
        return [
            self.resolve(event["Properties"]["Pattern"])
            for event in events.values()
            if event["Type"] == "EventBridgeRule"
        ]

    def stream_sources(self, logical_id: str) -> list[tuple[str, dict[str, Any]]]:
        """(table logical id, resolved event properties) for each DynamoDB stream event of a function."""
        sources = []
        for event in self.resources[logical_id]["Properties"].get("Events", {}).values():
            if event["Type"] != "DynamoDB":
                continue
            stream = event["Properties"]["Stream"]
            if not (isinstance(stream, dict) and "Fn::GetAtt" in stream):
                raise TemplateError(f"{logical_id}: a stream event must name its table with !GetAtt Table.StreamArn")
            target = stream["Fn::GetAtt"]
            table = (target.split(".", 1) if isinstance(target, str) else target)[0]
            sources.append((table, self.resolve(event["Properties"])))
        return sources

    def state_machine_definition(self, logical_id: str) -> dict[str, Any]:
        """The ASL with DefinitionSubstitutions applied, as CloudFormation applies them."""
        properties = self.resources[logical_id]["Properties"]
        text = (REPOSITORY_ROOT / properties["DefinitionUri"]).read_text(encoding="utf-8")
        substitutions = {
            name: str(self.resolve(value)) for name, value in properties.get("DefinitionSubstitutions", {}).items()
        }
        missing = set(re.findall(r"\$\{(\w+)\}", text)) - set(substitutions)
        if missing:
            raise TemplateError(f"{properties['DefinitionUri']} uses undefined substitutions: {sorted(missing)}")
        for name, value in substitutions.items():
            text = text.replace("${" + name + "}", value)
        return json.loads(text)


def definition_substitution_names(text: str) -> set[str]:
    return set(re.findall(r"\$\{(\w+)\}", text))
