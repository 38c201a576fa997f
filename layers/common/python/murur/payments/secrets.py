"""The providers' signing secrets: one Secrets Manager secret, JSON, by provider.

    {"bankily": ["<current>", "<previous>"], "masrvi": "<current>", "sedad": ["<current>"]}

A provider's entry is one secret or a list of them: every listed secret is accepted, which is how a
secret is rotated without refusing a delivery (docs/WALLET_WEBHOOKS.md). Read through Powertools
parameters and cached for MAX_AGE_SECONDS, so a warm function asks Secrets Manager once in a while,
not once per delivery.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError, TransformParameterError

from murur.payments.errors import WebhookNotConfigured
from murur.payments.notice import Provider

# A secret added for rotation is accepted by every warm function within this time.
MAX_AGE_SECONDS = 300


class WebhookSecrets:
    def __init__(self, secretsmanager: Any, secret_id: str) -> None:
        self._provider = SecretsProvider(boto3_client=secretsmanager)
        self._secret_id = secret_id

    def for_provider(self, provider: Provider) -> list[str]:
        """The secrets a delivery from `provider` may be signed with; WebhookNotConfigured when none."""
        try:
            document = self._provider.get(self._secret_id, max_age=MAX_AGE_SECONDS, transform="json")
        except (GetParameterError, TransformParameterError) as error:
            # No value yet (the secret was just created) or not JSON: an operator must set it.
            raise WebhookNotConfigured("the webhook secrets cannot be read") from error
        entry = document.get(provider.value) if isinstance(document, dict) else None
        secrets = [entry] if isinstance(entry, str) else entry if isinstance(entry, list) else []
        usable = [secret for secret in secrets if isinstance(secret, str) and len(secret) >= 32]
        if not usable:
            raise WebhookNotConfigured(f"no signing secret is set for {provider.value}")
        return usable
