"""The nightly export: offences without personal data, gzip JSON Lines partitioned by capture day."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from murur.analytics.aggregates import OffenceRow
from murur.analytics.export import CAMERAS_KEY, read_export, read_json_lines_gzip
from murur.local.template import load_template
from murur.workflow import ViolationType

from .conftest import NNI, PLATE, violation, write_violations


def export_objects(stack: Any) -> dict[str, bytes]:
    s3, bucket = stack.client("s3"), stack.name("AnalyticsBucket")
    listed = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {entry["Key"]: s3.get_object(Bucket=bucket, Key=entry["Key"])["Body"].read() for entry in listed}


def test_the_export_writes_each_day_in_its_partition_without_personal_data(stack: Any, tmp_path: Path) -> None:
    now = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    two_days_ago, three_days_ago = now - timedelta(days=2), now - timedelta(days=3)
    violations = [
        violation(1, "NKC-TVZ-01", two_days_ago.replace(hour=8)),
        violation(2, "NDB-RN2-01", two_days_ago.replace(hour=23, minute=59), ViolationType.RED_LIGHT),
        violation(3, "NKC-KSR-02", three_days_ago.replace(hour=6)),
        violation(4, "NKC-TVZ-01", now - timedelta(days=12)),  # older than the re-export window
        violation(5, "NKC-TVZ-01", now.replace(hour=1)),  # today: the day is not over
    ]
    write_violations(stack, violations)
    stack.deliver_streams()

    report = stack.functions.invoke("ExportViolationsFunction", {"source": "aws.events"})

    day = lambda moment: f"year={moment:%Y}/month={moment:%m}/day={moment:%d}"  # noqa: E731
    expected = {f"offences/{day(three_days_ago)}/offences.json.gz", f"offences/{day(two_days_ago)}/offences.json.gz"}
    objects = export_objects(stack)
    assert set(objects) == expected | {CAMERAS_KEY}
    assert report["rows"] == 3 and report["days"] == [f"{three_days_ago:%Y-%m-%d}", f"{two_days_ago:%Y-%m-%d}"]

    rows = list(read_json_lines_gzip(objects[f"offences/{day(two_days_ago)}/offences.json.gz"]))
    assert [(row["camera_id"], row["violation_type"]) for row in rows] == [("NKC-TVZ-01", "SPEEDING"),
                                                                          ("NDB-RN2-01", "RED_LIGHT")]
    # Only what OffenceRow names, which is what the Glue table declares.
    glue = load_template()["Resources"]["OffencesGlueTable"]["Properties"]["TableInput"]
    assert [column["Name"] for column in glue["StorageDescriptor"]["Columns"]] == list(OffenceRow.model_fields)
    assert set().union(*(row.keys() for row in rows)) <= set(OffenceRow.model_fields)
    exported_text = "".join(gzip.decompress(body).decode() for body in objects.values())
    assert "NKC-TVZ-01" in exported_text
    for item in violations:
        for personal in (PLATE, NNI, item.violation_id, item.frame_key, item.execution_arn, item.evidence_frame_key):
            assert personal not in exported_text

    # A second run rewrites the same bytes; the report reads the export back from a copy.
    stack.functions.invoke("ExportViolationsFunction", {"source": "aws.events"})
    assert export_objects(stack) == objects
    for key, body in objects.items():
        (tmp_path / key).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / key).write_bytes(body)
    exported, cameras = read_export(tmp_path)
    assert len(exported) == 3 and {camera.camera_id for camera in cameras} >= {"NKC-TVZ-01", "NDB-RN2-01"}


def test_the_athena_side_is_provisioned_locally_from_the_template(stack: Any) -> None:
    glue, athena = stack.client("glue"), stack.client("athena")
    database = stack.name("AnalyticsDatabase")
    tables = {table["Name"]: table for table in glue.get_tables(DatabaseName=database)["TableList"]}
    assert set(tables) == {"offences", "cameras"}
    bucket = stack.name("AnalyticsBucket")
    assert tables["offences"]["Parameters"]["storage.location.template"] == (
        f"s3://{bucket}/offences/year=${{year}}/month=${{month}}/day=${{day}}/")
    assert [key["Name"] for key in tables["offences"]["PartitionKeys"]] == ["year", "month", "day"]
    workgroup = stack.name("AnalyticsWorkGroup")
    configuration = athena.get_work_group(WorkGroup=workgroup)["WorkGroup"]["Configuration"]
    assert configuration["ResultConfiguration"]["OutputLocation"] == f"s3://{bucket}/athena-results/"
    queries = [athena.get_named_query(NamedQueryId=query_id)["NamedQuery"]
               for query_id in athena.list_named_queries(WorkGroup=workgroup)["NamedQueryIds"]]
    assert len(queries) == 2
    assert all(query["Database"] == database and "FROM offences" in query["QueryString"] for query in queries)
