"""Where every function finds its resources: environment variables set by template.yaml.

One place for the names, so the template, the local stack and the handlers cannot disagree.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

ENV_FRAMES_BUCKET = "FRAMES_BUCKET"
ENV_EVIDENCE_BUCKET = "EVIDENCE_BUCKET"
ENV_CAMERAS_TABLE = "CAMERAS_TABLE"
ENV_VEHICLES_TABLE = "VEHICLES_TABLE"
ENV_FRAMES_TABLE = "FRAMES_TABLE"
ENV_VIOLATIONS_TABLE = "VIOLATIONS_TABLE"
ENV_REVIEWS_TABLE = "REVIEWS_TABLE"
ENV_STATE_MACHINE_ARN = "STATE_MACHINE_ARN"
ENV_PORTAL_EVENT_BUS = "PORTAL_EVENT_BUS"
ENV_FINE_SCHEDULE_PARAMETER = "FINE_SCHEDULE_PARAMETER"
ENV_AUTO_ISSUE_THRESHOLD = "AUTO_ISSUE_THRESHOLD"
ENV_PORTAL_BASE_URL = "PORTAL_BASE_URL"
ENV_ANALYTICS_TABLE = "ANALYTICS_TABLE"
ENV_ANALYTICS_BUCKET = "ANALYTICS_BUCKET"
ENV_SECTIONS_TABLE = "SECTIONS_TABLE"
ENV_SECTION_PASSAGES_TABLE = "SECTION_PASSAGES_TABLE"
ENV_PAYMENTS_TABLE = "PAYMENTS_TABLE"
ENV_IDEMPOTENCY_TABLE = "IDEMPOTENCY_TABLE"
ENV_WALLET_WEBHOOK_SECRETS = "WALLET_WEBHOOK_SECRETS"
ENV_OBJECTION_ATTACHMENTS_BUCKET = "OBJECTION_ATTACHMENTS_BUCKET"


@dataclass(frozen=True)
class Settings:
    frames_bucket: str
    evidence_bucket: str
    cameras_table: str
    vehicles_table: str
    frames_table: str
    violations_table: str
    reviews_table: str
    state_machine_arn: str
    portal_event_bus: str
    fine_schedule_parameter: str
    portal_base_url: str
    auto_issue_threshold: float | None
    # Analytics (the aggregation, black-spot and export functions, the officers' black-spot route).
    analytics_table: str
    analytics_bucket: str
    # Section control only (SectionControlFunction's own environment).
    sections_table: str
    section_passages_table: str
    # Wallet payments (PaymentWebhookFunction; the tables also for the reconciliation report).
    payments_table: str = ""
    idempotency_table: str = ""
    wallet_webhook_secrets: str = ""
    # The HTTP API only (ObjectionFunction): citizens' objection attachments.
    objection_attachments_bucket: str = ""

    @classmethod
    def from_env(cls) -> "Settings":
        threshold = os.environ.get(ENV_AUTO_ISSUE_THRESHOLD)
        return cls(
            frames_bucket=os.environ.get(ENV_FRAMES_BUCKET, ""),
            evidence_bucket=os.environ.get(ENV_EVIDENCE_BUCKET, ""),
            cameras_table=os.environ.get(ENV_CAMERAS_TABLE, ""),
            vehicles_table=os.environ.get(ENV_VEHICLES_TABLE, ""),
            frames_table=os.environ.get(ENV_FRAMES_TABLE, ""),
            violations_table=os.environ.get(ENV_VIOLATIONS_TABLE, ""),
            reviews_table=os.environ.get(ENV_REVIEWS_TABLE, ""),
            state_machine_arn=os.environ.get(ENV_STATE_MACHINE_ARN, ""),
            portal_event_bus=os.environ.get(ENV_PORTAL_EVENT_BUS, ""),
            fine_schedule_parameter=os.environ.get(ENV_FINE_SCHEDULE_PARAMETER, ""),
            portal_base_url=os.environ.get(ENV_PORTAL_BASE_URL, "https://khidmati.gov.mr/murur"),
            auto_issue_threshold=float(threshold) if threshold else None,
            analytics_table=os.environ.get(ENV_ANALYTICS_TABLE, ""),
            analytics_bucket=os.environ.get(ENV_ANALYTICS_BUCKET, ""),
            sections_table=os.environ.get(ENV_SECTIONS_TABLE, ""),
            section_passages_table=os.environ.get(ENV_SECTION_PASSAGES_TABLE, ""),
            payments_table=os.environ.get(ENV_PAYMENTS_TABLE, ""),
            idempotency_table=os.environ.get(ENV_IDEMPOTENCY_TABLE, ""),
            wallet_webhook_secrets=os.environ.get(ENV_WALLET_WEBHOOK_SECRETS, ""),
            objection_attachments_bucket=os.environ.get(ENV_OBJECTION_ATTACHMENTS_BUCKET, ""),
        )


@lru_cache(maxsize=1)
def settings() -> Settings:
    """Read once per Lambda container; tests call settings.cache_clear() after changing the env."""
    return Settings.from_env()
