"""The demo's partners: each one's authenticated client and tokeniser, and the story's log.

Shared by the scenarios (``story``, ``fraud_kinds``, ``recall``), which import it from
below instead of from each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from connectors.canonical import Kind, canonicalize
from connectors.client import GatewayClient
from connectors.hashing import HmacTokeniserV1


@dataclass(slots=True)
class Step:
    scenario: str
    actor: str
    action: str
    outcome: str


@dataclass(slots=True)
class StoryLog:
    steps: list[Step] = field(default_factory=list)
    requests: int = 0

    def add(self, scenario: str, actor: str, action: str, outcome: str) -> None:
        self.steps.append(Step(scenario, actor, action, outcome))


class Partners:
    """The partners' clients and their tokenisers (keys from their own envelopes)."""

    def __init__(
        self,
        clients: dict[str, GatewayClient],
        tokenisers: dict[str, HmacTokeniserV1],
        log: StoryLog,
    ) -> None:
        self.clients = clients
        self.tokenisers = tokenisers
        self.log = log

    def item(self, partner: str, kind: Kind, value: str) -> dict[str, Any]:
        """The partner's token of ``value``: hashed on its side with its own type key."""
        tokeniser = self.tokenisers[partner]
        canonical = canonicalize(kind, value)
        return {
            "kind": kind.value,
            "epoch": tokeniser.epoch,
            "token": tokeniser.token(kind, canonical),
        }

    def call(self, partner: str, method: str, path: str, body: Any = None) -> Any:
        self.log.requests += 1
        return self.clients[partner].request(method, path, json=body).json()
