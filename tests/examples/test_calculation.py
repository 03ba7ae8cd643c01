"""The example's calculation, by hand from the Commission's published default values."""

from __future__ import annotations

import json

import pytest

from greenlang_runtime.testing import RuntimeClient, metric_value
from tests.examples.conftest import CALCULATE, EXAMPLE

# The document's default values (tCO2e per tonne): "Default values for the transitional
# period of the CBAM between 1 October 2023 and 31 December 2025", DG TAXUD, 22.12.2023.
# (CN code sent, quantity in tonnes, published direct value, published indirect value)
PUBLISHED = [
    ("2523 10 00", 1000.0, 0.83, 0.04),  # cement clinkers
    ("2523 29 00", 250.0, 0.81, 0.06),  # Portland cement, other than white
    ("7208 51 20", 12.5, 2.01, 0.27),  # hot-rolled flat steel (heading 7208)
    ("7601 10 00", 4.0, 2.36, 8.14),  # unwrought aluminium (heading 7601)
    ("2814 10 00", 3.0, 2.68, 0.14),  # anhydrous ammonia (heading 2814)
    ("3102 10 10", 20.0, 1.78, 0.12),  # urea (subheading 3102 10)
    ("2804 10 00", 0.5, 10.40, 0.00),  # hydrogen
]


@pytest.mark.parametrize(("cn_code", "quantity", "direct", "indirect"), PUBLISHED)
def test_each_good_is_quantity_times_its_default_values(
    client: RuntimeClient, cn_code: str, quantity: float, direct: float, indirect: float
) -> None:
    """Direct = quantity x direct value, indirect = quantity x indirect value, total = both."""
    response = client.post(CALCULATE, json={"lines": [{"cn_code": cn_code, "quantity": quantity}]})
    assert response.status_code == 200
    line = response.json()["lines"][0]
    assert line["cn_code"] == cn_code.replace(" ", "")
    assert (line["direct_factor"], line["indirect_factor"], line["unit"]) == (direct, indirect, "t")
    assert line["direct_tco2e"] == pytest.approx(quantity * direct, abs=1e-9)
    assert line["indirect_tco2e"] == pytest.approx(quantity * indirect, abs=1e-9)
    assert line["total_tco2e"] == pytest.approx(quantity * (direct + indirect), abs=1e-9)


def test_totals_add_up_over_lines(client: RuntimeClient) -> None:
    """The totals are the sums of the lines; the country of origin is reported back."""
    payload = {
        "lines": [
            {"cn_code": "2523 10 00", "quantity": 1000, "country_of_origin": "TR"},
            {"cn_code": "7208 10 00", "quantity": 12.5, "country_of_origin": "IN"},
        ]
    }
    body = client.post(CALCULATE, json=payload).json()
    # 1000 t clinker: 830 direct + 40 indirect; 12.5 t steel: 25.125 + 3.375.
    assert body["totals"] == {
        "direct_tco2e": pytest.approx(1000 * 0.83 + 12.5 * 2.01),
        "indirect_tco2e": pytest.approx(1000 * 0.04 + 12.5 * 0.27),
        "total_tco2e": pytest.approx(870 + 28.5),
    }
    assert [line["country_of_origin"] for line in body["lines"]] == ["TR", "IN"]
    assert body["factors"] == "bundled"


def test_results_have_no_floating_point_noise(client: RuntimeClient) -> None:
    """0.1 t of Portland cement is 0.081 tCO2e direct, not 0.08100000000000002."""
    body = client.post(CALCULATE, json={"lines": [{"cn_code": "25232900", "quantity": 0.1}]})
    line = body.json()["lines"][0]
    assert (line["direct_tco2e"], line["indirect_tco2e"], line["total_tco2e"]) == (
        0.081,
        0.006,
        0.087,
    )


def test_a_calculation_counts_as_a_success(client: RuntimeClient) -> None:
    """Each answered calculation adds one to agent_requests_total{status="success"}."""
    labels = {"capability": "calculate_embedded_emissions", "status": "success"}
    before = metric_value(client.runtime, "agent_requests_total", labels) or 0
    client.post(CALCULATE, json={"lines": [{"cn_code": "7601", "quantity": 1}]})
    assert metric_value(client.runtime, "agent_requests_total", labels) == before + 1


def test_capabilities_list_their_schemas(client: RuntimeClient) -> None:
    """GET /v1/capabilities names both capabilities with their JSON Schemas."""
    listed = {c["name"]: c for c in client.get("/v1/capabilities").json()["capabilities"]}
    assert sorted(listed) == ["calculate_embedded_emissions", "explain"]
    schema = listed["calculate_embedded_emissions"]["input_schema"]
    assert schema["required"] == ["lines"]
    assert listed["explain"]["output_schema"]["title"] == "Explanation"


def test_the_bundled_table_cites_its_source() -> None:
    """The data file names the document, its date and its address, and holds these values."""
    data = json.loads((EXAMPLE / "cbam_calculator/data/cbam_default_values.json").read_text())
    source = data["source"]
    assert source["title"].startswith("Default values for the transitional period of the CBAM")
    assert source["date"] == "2023-12-22"
    assert source["url"].startswith("https://taxation-customs.ec.europa.eu/")
    table = {
        row["cn_code"]: (float(row["direct"]), float(row["indirect"])) for row in data["factors"]
    }
    assert table == {
        "25231000": (0.83, 0.04),
        "25232900": (0.81, 0.06),
        "7208": (2.01, 0.27),
        "7601": (2.36, 8.14),
        "2814": (2.68, 0.14),
        "310210": (1.78, 0.12),
        "28041000": (10.40, 0.00),
    }
