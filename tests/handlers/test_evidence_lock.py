"""The evidence bucket as the local stack provisions it from template.yaml: Object Lock keeps every
version of every evidence object as it was stored."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from murur.evidence import EvidenceStore
from murur.local import LocalStack


def _store(stack: LocalStack) -> EvidenceStore:
    return EvidenceStore(stack.client("s3"), stack.name("EvidenceBucket"))


def test_each_evidence_object_is_locked_for_the_template_retention(stack: LocalStack) -> None:
    stored = _store(stack).put("MR26-TESTLOCK01", "frame.jpg", b"\xff\xd8 original frame", "image/jpeg")

    head = stack.client("s3").head_object(Bucket=stack.name("EvidenceBucket"), Key=stored.key)
    assert head["ObjectLockMode"] == "GOVERNANCE"  # the template's default EvidenceLockMode
    # EvidenceRetentionYears defaults to 5: locked until about five years from now.
    until = head["ObjectLockRetainUntilDate"]
    assert until > datetime.now(UTC) + timedelta(days=4 * 365)
    assert until < datetime.now(UTC) + timedelta(days=6 * 365)


def test_the_lock_mode_and_years_are_template_parameters(make_stack) -> None:
    stack = make_stack(seeded=False, EvidenceLockMode="COMPLIANCE", EvidenceRetentionYears="10")
    stored = _store(stack).put("MR26-TESTLOCK02", "frame.jpg", b"\xff\xd8 original frame", "image/jpeg")
    head = stack.client("s3").head_object(Bucket=stack.name("EvidenceBucket"), Key=stored.key)
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert head["ObjectLockRetainUntilDate"] > datetime.now(UTC) + timedelta(days=9 * 365)


def test_a_stored_evidence_version_can_be_neither_deleted_nor_overwritten(stack: LocalStack) -> None:
    s3, bucket = stack.client("s3"), stack.name("EvidenceBucket")
    original = b"\xff\xd8 original frame"
    stored = _store(stack).put("MR26-TESTLOCK03", "frame.jpg", original, "image/jpeg")
    (version,) = s3.list_object_versions(Bucket=bucket, Prefix=stored.key)["Versions"]

    with pytest.raises(ClientError) as refused:
        s3.delete_object(Bucket=bucket, Key=stored.key, VersionId=version["VersionId"])
    assert refused.value.response["Error"]["Code"] == "AccessDenied"

    # A second PUT to the key only adds a version; the stored one is still there, byte for byte.
    _store(stack).put("MR26-TESTLOCK03", "frame.jpg", b"\xff\xd8 something else", "image/jpeg")
    kept = s3.get_object(Bucket=bucket, Key=stored.key, VersionId=version["VersionId"])["Body"].read()
    assert hashlib.sha256(kept).hexdigest() == stored.sha256
    assert len(s3.list_object_versions(Bucket=bucket, Prefix=stored.key)["Versions"]) == 2
