"""The example agent that `make demo` serves works as the README says."""

from __future__ import annotations

from greenlang_runtime.testing import RuntimeClient, metric_value


def test_minimal_example_answers_as_the_readme_shows() -> None:
    """examples/minimal: probes pass, the capability list and a calculation are as documented."""
    from examples.minimal.agent import runtime

    with RuntimeClient(runtime) as client:
        assert client.get("/health/ready").json() == {"status": "ok", "checks": {}}
        names = [c["name"] for c in client.get("/v1/capabilities").json()["capabilities"]]
        assert names == ["echo", "embedded-emissions"]
        labels = {"capability": "embedded-emissions", "status": "success"}
        before = metric_value(runtime, "agent_requests_total", labels) or 0
        response = client.post(
            "/v1/capabilities/embedded-emissions", json={"product": "steel", "mass_kg": 1000}
        )
        # 1000 kg of steel at 1.85 kg CO2e per kg.
        assert response.json() == {"product": "steel", "kg_co2e": 1850.0}
        assert metric_value(runtime, "agent_requests_total", labels) == before + 1
