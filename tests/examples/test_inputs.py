"""Bad input to the example answers 422 with field errors and never counts as an agent error."""

from __future__ import annotations

from typing import Any

import pytest

from greenlang_runtime.testing import RuntimeClient, metric_value
from tests.examples.conftest import CALCULATE, EXPLAIN, errors_total

_MODEL = "The payload does not match CalculationRequest"


@pytest.mark.parametrize(
    ("payload", "message", "details"),
    [
        (
            {"lines": [{"cn_code": "2523 10 00", "quantity": -5}]},
            f"{_MODEL}: 1 field error.",
            [
                {
                    "loc": ["lines", 0, "quantity"],
                    "msg": "Input should be greater than or equal to 0",
                    "type": "greater_than_equal",
                }
            ],
        ),
        (
            {"lines": [{"quantity": 5}, {"cn_code": "7601"}]},
            f"{_MODEL}: 2 field errors.",
            [
                {"loc": ["lines", 0, "cn_code"], "msg": "Field required", "type": "missing"},
                {"loc": ["lines", 1, "quantity"], "msg": "Field required", "type": "missing"},
            ],
        ),
        (
            {},
            f"{_MODEL}: 1 field error.",
            [{"loc": ["lines"], "msg": "Field required", "type": "missing"}],
        ),
        (
            {"lines": []},
            f"{_MODEL}: 1 field error.",
            [
                {
                    "loc": ["lines"],
                    "msg": "List should have at least 1 item after validation, not 0",
                    "type": "too_short",
                }
            ],
        ),
        (
            {"lines": [{"cn_code": "25-23", "quantity": 1}]},
            f"{_MODEL}: 1 field error.",
            [
                {
                    "loc": ["lines", 0, "cn_code"],
                    "msg": "Value error, a CN code is 4, 6 or 8 digits, e.g. 2523 10 00 or 7208",
                    "type": "value_error",
                }
            ],
        ),
        (
            {"lines": [{"cn_code": "7601", "quantity": 1, "country_of_origin": "china"}]},
            f"{_MODEL}: 1 field error.",
            [
                {
                    "loc": ["lines", 0, "country_of_origin"],
                    "msg": "String should match pattern '^[A-Z]{2}$'",
                    "type": "string_pattern_mismatch",
                }
            ],
        ),
        (
            {"lines": [{"cn_code": "7601", "quantity": 1, "mass_kg": 1000}]},
            f"{_MODEL}: 1 field error.",
            [
                {
                    "loc": ["lines", 0, "mass_kg"],
                    "msg": "Extra inputs are not permitted",
                    "type": "extra_forbidden",
                }
            ],
        ),
        (
            {
                "lines": [
                    {"cn_code": "7601", "quantity": 1},
                    {"cn_code": "9999 99 99", "quantity": 2},
                ]
            },
            "1 goods line has a CN code with no default value in the emission-factor table.",
            [
                {
                    "loc": ["lines", 1, "cn_code"],
                    "msg": "No default value for CN code 99999999.",
                    "type": "unknown_cn_code",
                }
            ],
        ),
        (
            # Electricity's values are not in the bundled table (see the data file's notes).
            {
                "lines": [
                    {"cn_code": "2716 00 00", "quantity": 10},
                    {"cn_code": "2523", "quantity": 1},
                ]
            },
            "2 goods lines have CN codes with no default value in the emission-factor table.",
            [
                {
                    "loc": ["lines", 0, "cn_code"],
                    "msg": "No default value for CN code 27160000.",
                    "type": "unknown_cn_code",
                },
                {
                    "loc": ["lines", 1, "cn_code"],
                    "msg": "No default value for CN code 2523.",
                    "type": "unknown_cn_code",
                },
            ],
        ),
    ],
)
def test_bad_input_is_a_client_error_with_its_fields(
    client: RuntimeClient, payload: dict[str, Any], message: str, details: list[dict[str, Any]]
) -> None:
    """422 names each failing field; client_error goes up by one, agent_errors_total does not."""
    runtime = client.runtime
    labels = {"capability": "calculate_embedded_emissions", "status": "client_error"}
    before = metric_value(runtime, "agent_requests_total", labels) or 0
    errors_before = errors_total(runtime)
    response = client.post(CALCULATE, json=payload)
    assert response.status_code == 422
    assert response.json() == {
        "error": {"type": "invalid_input", "message": message, "details": details}
    }
    assert metric_value(runtime, "agent_requests_total", labels) == before + 1
    assert errors_total(runtime) == errors_before == 0


def test_rejected_values_are_not_echoed(client: RuntimeClient) -> None:
    """A 422 body never repeats what was sent (it may be confidential trade data)."""
    response = client.post(
        CALCULATE, json={"lines": [{"cn_code": "7601", "quantity": "CONFIDENTIAL-4711"}]}
    )
    assert response.status_code == 422
    assert "CONFIDENTIAL-4711" not in response.text


def test_explain_validates_like_calculate(client: RuntimeClient) -> None:
    """explain takes the same payload, so bad input there is a 422 client error too."""
    response = client.post(EXPLAIN, json={"lines": [{"cn_code": "7601", "quantity": -1}]})
    assert response.status_code == 422
    labels = {"capability": "explain", "status": "client_error"}
    assert metric_value(client.runtime, "agent_requests_total", labels) == 1
    assert errors_total(client.runtime) == 0
