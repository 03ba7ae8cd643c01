"""Typed capabilities: pydantic models validate the payload, shape the result, publish schemas."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import BaseModel, ConfigDict, Field

from greenlang_runtime import AgentRuntime
from greenlang_runtime.testing import RuntimeClient, metric_value


class Line(BaseModel):
    """One product line of a shipment."""

    product: str
    mass_kg: float = Field(gt=0)


class Shipment(BaseModel):
    """A shipment: nested lines; unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")

    lines: list[Line]
    origin: str = "EU"


class Loose(BaseModel):
    """A model that ignores unknown fields (pydantic's default)."""

    name: str


class Footprint(BaseModel):
    """The result: total emissions."""

    kg_co2e: float
    lines: int


received: list[object] = []


@pytest.fixture
def client(runtime: AgentRuntime) -> Iterator[RuntimeClient]:
    received.clear()

    @runtime.capability
    def footprint(shipment: Shipment) -> Footprint:
        """Emissions of a shipment."""
        received.append(shipment)
        total = sum(line.mass_kg for line in shipment.lines) * 1.85
        return Footprint(kg_co2e=total, lines=len(shipment.lines))

    @runtime.capability
    async def greet(person: Loose) -> dict[str, str]:
        received.append(person)
        return {"hello": person.name}

    with RuntimeClient(runtime) as client:
        yield client


def requests(runtime: AgentRuntime, capability: str) -> tuple[float | None, ...]:
    """agent_requests_total of ``capability``: (success, error, client_error)."""
    return tuple(
        metric_value(runtime, "agent_requests_total", {"capability": capability, "status": s})
        for s in ("success", "error", "client_error")
    )


def test_valid_payload_reaches_the_function_as_the_model(client: RuntimeClient) -> None:
    """A valid nested payload arrives as a Shipment; the returned model is the JSON answer."""
    body = {"lines": [{"product": "steel", "mass_kg": 1000}, {"product": "cement", "mass_kg": 200}]}
    response = client.post("/v1/capabilities/footprint", json=body)
    assert response.status_code == 200
    # (1000 + 200) kg x 1.85 = 2220.0 kg CO2e, over 2 lines.
    assert response.json() == {"kg_co2e": 2220.0, "lines": 2}
    assert received == [
        Shipment(lines=[Line(product="steel", mass_kg=1000), Line(product="cement", mass_kg=200)])
    ]
    assert requests(client.runtime, "footprint") == (1, 0, 0)


def test_invalid_nested_fields_are_422_with_field_errors_and_no_values(
    client: RuntimeClient,
) -> None:
    """Bad nested fields are 422 listing loc, msg and type of each, never the values sent."""
    body = {
        "lines": [{"product": "steel", "mass_kg": "hunter2"}, {"mass_kg": -5}],
        "origin": "EU",
    }
    response = client.post("/v1/capabilities/footprint", json=body)
    assert response.status_code == 422
    assert response.json() == {
        "error": {
            "type": "invalid_input",
            "message": "The payload does not match Shipment: 3 field errors.",
            "details": [
                {
                    "loc": ["lines", 0, "mass_kg"],
                    "msg": "Input should be a valid number, unable to parse string as a number",
                    "type": "float_parsing",
                },
                {"loc": ["lines", 1, "product"], "msg": "Field required", "type": "missing"},
                {
                    "loc": ["lines", 1, "mass_kg"],
                    "msg": "Input should be greater than 0",
                    "type": "greater_than",
                },
            ],
        }
    }
    assert "hunter2" not in response.text
    assert received == []  # the function never ran
    assert requests(client.runtime, "footprint") == (0, 0, 1)
    assert (
        metric_value(client.runtime, "agent_errors_total", {"error_type": "InvalidInput"}) is None
    )


def test_payload_of_the_wrong_type_is_422(client: RuntimeClient) -> None:
    """A JSON array where an object is expected is one error at the root."""
    response = client.post("/v1/capabilities/footprint", json=["steel"])
    assert response.status_code == 422
    assert response.json()["error"] == {
        "type": "invalid_input",
        "message": "The payload does not match Shipment: 1 field error.",
        "details": [
            {
                "loc": [],
                "msg": "Input should be a valid dictionary or instance of Shipment",
                "type": "model_type",
            }
        ],
    }


def test_extra_fields_follow_the_model(client: RuntimeClient) -> None:
    """A model that forbids extra fields refuses them; one that ignores them drops them."""
    refused = client.post(
        "/v1/capabilities/footprint", json={"lines": [], "secret_field": "x"}
    ).json()
    assert refused["error"]["details"] == [
        {
            "loc": ["secret_field"],
            "msg": "Extra inputs are not permitted",
            "type": "extra_forbidden",
        }
    ]
    accepted = client.post("/v1/capabilities/greet", json={"name": "Ada", "age": 36})
    assert accepted.json() == {"hello": "Ada"}
    assert received == [Loose(name="Ada")]


def test_schemas_are_listed(client: RuntimeClient) -> None:
    """GET /v1/capabilities gives input_schema and output_schema of typed capabilities."""
    line = {
        "description": "One product line of a shipment.",
        "properties": {
            "product": {"title": "Product", "type": "string"},
            "mass_kg": {"exclusiveMinimum": 0, "title": "Mass Kg", "type": "number"},
        },
        "required": ["product", "mass_kg"],
        "title": "Line",
        "type": "object",
    }
    assert client.get("/v1/capabilities").json() == {
        "capabilities": [
            {
                "name": "footprint",
                "description": "Emissions of a shipment.",
                "input_schema": {
                    "$defs": {"Line": line},
                    "additionalProperties": False,
                    "description": "A shipment: nested lines; unknown fields are refused.",
                    "properties": {
                        "lines": {
                            "items": {"$ref": "#/$defs/Line"},
                            "title": "Lines",
                            "type": "array",
                        },
                        "origin": {"default": "EU", "title": "Origin", "type": "string"},
                    },
                    "required": ["lines"],
                    "title": "Shipment",
                    "type": "object",
                },
                "output_schema": {
                    "description": "The result: total emissions.",
                    "properties": {
                        "kg_co2e": {"title": "Kg Co2E", "type": "number"},
                        "lines": {"title": "Lines", "type": "integer"},
                    },
                    "required": ["kg_co2e", "lines"],
                    "title": "Footprint",
                    "type": "object",
                },
            },
            {
                "name": "greet",
                "description": "",
                "input_schema": {
                    "description": "A model that ignores unknown fields (pydantic's default).",
                    "properties": {"name": {"title": "Name", "type": "string"}},
                    "required": ["name"],
                    "title": "Loose",
                    "type": "object",
                },
            },
        ]
    }


def test_direct_calls_pass_arguments_through_unchanged(runtime: AgentRuntime) -> None:
    """Called from Python, a typed capability gets exactly what it was given, unvalidated."""
    seen: list[object] = []

    @runtime.capability
    def footprint(shipment: Shipment) -> int:
        seen.append(shipment)
        return 1

    as_dict = {"lines": "not even a list"}
    assert footprint(as_dict) == 1  # type: ignore[arg-type]
    assert seen[0] is as_dict
    assert requests(runtime, "footprint") == (1, 0, 0)


def test_a_model_that_cannot_be_resolved_is_served_untyped(
    runtime: AgentRuntime, caplog: pytest.LogCaptureFixture
) -> None:
    """A model defined inside a function cannot be resolved: a warning, and no validation."""

    class Local(BaseModel):
        count: int

    @runtime.capability
    def local(payload: Local) -> object:
        return {"got": payload}

    with RuntimeClient(runtime) as client:
        response = client.post("/v1/capabilities/local", json={"count": "many"})
        assert response.json() == {"got": {"count": "many"}}
        listed = client.get("/v1/capabilities").json()
    assert listed == {"capabilities": [{"name": "local", "description": ""}]}
    assert "capability 'local': its annotations cannot be resolved (NameError" in caplog.text
