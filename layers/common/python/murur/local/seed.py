"""The demo registry: cameras and vehicles as the agreed table items, written straight to the tables.

Reference data of a real deployment comes from the ministry and the camera operator; locally the
demo, the CLI and the end-to-end tests share this small, realistic set.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from murur.dynamo import to_item


@dataclass(frozen=True)
class DemoCamera:
    camera_id: str
    status: str
    name: str
    road: str
    region_code: str
    latitude: float
    longitude: float
    speed_limit_kmh: int
    installed_at: str


@dataclass(frozen=True)
class DemoVehicle:
    plate: str
    owner_name: str
    owner_nni: str
    owner_phone: str | None
    language: str
    make: str
    model: str
    colour: str


CAMERAS = [
    DemoCamera("NKC-TVZ-01", "ACTIVE", "Carrefour Madrid", "Avenue Gamal Abdel Nasser", "00",
               18.0866, -15.9785, 50, "2025-03-01T08:00:00+00:00"),
    DemoCamera("NKC-KSR-02", "ACTIVE", "Ksar, route de l'aéroport", "Route de l'Aéroport", "00",
               18.1107, -15.9530, 60, "2025-04-15T08:00:00+00:00"),
    DemoCamera("NDB-RN2-01", "ACTIVE", "RN2 entrée Nouadhibou", "Route nationale 2", "08",
               20.9420, -17.0380, 80, "2025-06-10T08:00:00+00:00"),
    DemoCamera("NKC-OLD-09", "RETIRED", "Ancien poste Capitale", "Avenue Charles de Gaulle", "00",
               18.0790, -15.9650, 50, "2019-01-20T08:00:00+00:00"),
]

VEHICLES = [
    DemoVehicle("4821AB00", "محمد ولد أحمد", "1234567890", "+22236123456", "ar", "Toyota", "Hilux", "blanc"),
    DemoVehicle("1907KN00", "Aminata Ba", "2345678901", "+22246234567", "fr", "Peugeot", "301", "gris"),
    DemoVehicle("3350CD08", "فاطمة منت سيدي", "3456789012", "+22222345678", "ar", "Hyundai", "Accent", "rouge"),
    DemoVehicle("6142MR06", "Oumar Sy", "4567890123", "+22237456789", "fr", "Toyota", "Corolla", "noir"),
    DemoVehicle("2718EH00", "أحمد سالم ولد الشيخ", "5678901234", "+22248567890", "ar", "Mercedes", "190", "bleu"),
    # No phone on file: the violation is issued and the portal hears of it, but no SMS goes out.
    DemoVehicle("5093TA04", "Mariem Diallo", "6789012345", None, "fr", "Renault", "Logan", "blanc"),
]

UNKNOWN_PLATES = ["7777ZZ05", "8006QX11"]

# Section control (murur.sections): two cameras 5.2 km apart on the Nouakchott-Rosso road, southbound.
# Kept apart from CAMERAS: they photograph every passing vehicle, not offences.
SECTION_CAMERAS = [
    DemoCamera("RSO-RN2-K12", "ACTIVE", "RN2 Nouakchott-Rosso km 12", "Route nationale 2", "00",
               17.9668, -15.9261, 90, "2026-01-15T08:00:00+00:00"),
    DemoCamera("RSO-RN2-K17", "ACTIVE", "RN2 Nouakchott-Rosso km 17", "Route nationale 2", "06",
               17.9215, -15.9139, 90, "2026-01-15T08:00:00+00:00"),
]

SECTIONS = [
    # 5 200 m at 90 km/h take 208 s. Shorter than 90 s would mean over 200 km/h (a misread or a
    # cloned plate), longer than 30 minutes a stop on the way: neither is paired.
    {"section_id": "RN2-NKC-RSO-K12-K17", "status": "ACTIVE", "name": "RN2 Nouakchott-Rosso km 12-17",
     "road": "Route nationale 2", "entry_camera_id": "RSO-RN2-K12", "exit_camera_id": "RSO-RN2-K17",
     "distance_m": 5200, "limit_kmh": 90, "tolerance_kmh": 5, "min_seconds": 90, "max_seconds": 1800,
     "clock_skew_seconds": 1.0},
]

def seed_registry(stack: Any) -> None:
    """Write the demo cameras, sections and vehicles into a provisioned LocalStack."""
    dynamodb = stack.client("dynamodb")
    for camera in CAMERAS:
        dynamodb.put_item(TableName=stack.name("CamerasTable"), Item=to_item(asdict(camera)))
    for camera in SECTION_CAMERAS:
        dynamodb.put_item(TableName=stack.name("CamerasTable"), Item=to_item(asdict(camera)))
    for section in SECTIONS:
        dynamodb.put_item(TableName=stack.name("SectionsTable"), Item=to_item(section))
    for vehicle in VEHICLES:
        dynamodb.put_item(TableName=stack.name("VehiclesTable"), Item=to_item(asdict(vehicle)))


def vehicle(plate: str) -> DemoVehicle:
    return next(v for v in VEHICLES if v.plate == plate)
