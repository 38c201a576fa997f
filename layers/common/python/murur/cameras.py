"""The camera register (CamerasTable): which cameras may upload, where they stand, their posted limit."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Protocol

from pydantic import AwareDatetime, BaseModel, ConfigDict

from murur.dynamo import model_from_item


class CameraStatus(StrEnum):
    ACTIVE = "ACTIVE"
    RETIRED = "RETIRED"


class Camera(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    camera_id: str
    status: str  # CameraStatus; the register may hold others (maintenance ...): only ACTIVE cameras upload
    name: str
    road: str
    region_code: str
    latitude: float
    longitude: float
    speed_limit_kmh: float | None = None
    installed_at: AwareDatetime | None = None

    @property
    def place(self) -> str:
        """How notices and evidence name the place."""
        return self.name if self.road in self.name else f"{self.name}, {self.road}"


class CameraDirectory(Protocol):
    def get(self, camera_id: str) -> Camera | None: ...


class DynamoDBCameraDirectory:
    def __init__(self, dynamodb: Any, table_name: str) -> None:
        self._dynamodb = dynamodb
        self._table = table_name

    def get(self, camera_id: str) -> Camera | None:
        item = self._dynamodb.get_item(TableName=self._table, Key={"camera_id": {"S": camera_id}}).get("Item")
        return model_from_item(Camera, item, f"camera record {camera_id}") if item else None

    def all(self) -> list[Camera]:
        """The whole register, sorted by id: reference data of a few hundred cameras, read by the nightly
        analytics jobs (a scan of this small table, never of the violations)."""
        pages = self._dynamodb.get_paginator("scan").paginate(TableName=self._table)
        cameras = [model_from_item(Camera, item, f"camera record {item.get('camera_id', {}).get('S', '?')}")
                   for page in pages for item in page.get("Items", [])]
        return sorted(cameras, key=lambda camera: camera.camera_id)
