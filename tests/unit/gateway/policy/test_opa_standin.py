"""The OPA STAND-IN answers the REST API the way OPA does (as far as the gateway uses it)."""

from __future__ import annotations

import httpx
import pytest
from opa_client import OpaClient
from opa_client.errors import PolicyNotFoundError

from gateway.policy.opa_standin import StandInServer, StandInState, running_standin


def test_standin_undefined_is_200_without_result(standin: StandInServer) -> None:
    response = httpx.post(f"{standin.url}/v1/data/gateway/decision/nothing", json={"input": {}})
    assert response.status_code == 200
    assert "result" not in response.json()


def test_standin_decision_over_http(standin: StandInServer) -> None:
    body = {
        "input": {
            "action": "match:query",
            "partner_id": "telecom-a",
            "purpose": "spoofing_prevention",
            "legal_basis": "art6_1_f",
            "kinds": ["phone"],
            "categories": [],
            "batch_size": 1,
        }
    }
    response = httpx.post(f"{standin.url}/v1/data/gateway/decision/decision", json=body)
    assert response.status_code == 200
    result = response.json()["result"]
    assert result["allow"] is True
    assert result["disclosure"] == ["hit", "role"]


def test_standin_health(standin: StandInServer) -> None:
    assert httpx.get(f"{standin.url}/health").status_code == 200
    with running_standin(StandInState()) as empty:
        assert httpx.get(f"{empty.url}/health").status_code == 500


def test_standin_serves_reason_catalog_with_hyphenated_keys(standin: StandInServer) -> None:
    response = httpx.get(f"{standin.url}/v1/data/ppsgate/reasons/partner-suspended")
    assert response.status_code == 200
    assert "suspended" in response.json()["result"]["text_en"]


def test_standin_policy_api_with_opa_client() -> None:
    with running_standin(StandInState()) as server:
        host, port = server.url.removeprefix("http://").split(":")
        client = OpaClient(host=host, port=int(port), retries=0, timeout=2)
        assert client.update_policy_from_string(
            'package example\n\nallow if input.user == "alice"\n', "example"
        )
        assert client.get_policies_list() == ["example"]
        assert client.query_rule({"user": "alice"}, "example", "allow") == {"result": True}
        assert client.query_rule({"user": "bob"}, "example", "allow") == {}
        assert client.update_or_create_data({"limit": 3}, "settings")
        assert client.get_data("settings") == {"result": {"limit": 3}}
        with pytest.raises(PolicyNotFoundError):
            client.get_data("missing")
        assert client.delete_policy("example")
        assert client.get_policies_list() == []


def test_standin_rejects_rego_that_does_not_compile() -> None:
    with running_standin(StandInState()) as server:
        response = httpx.put(
            f"{server.url}/v1/policies/broken", content=b"package broken\n\nallow {\n"
        )
        assert response.status_code == 400
        body = response.json()
        assert body["code"] == "invalid_parameter"
        assert body["errors"][0]["message"]
        assert httpx.get(f"{server.url}/v1/policies/broken").status_code == 404
