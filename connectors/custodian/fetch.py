"""A partner's side of distribution: fetch, check and store its envelopes.

``fetch_keys`` lists the epochs at the gateway, downloads the envelope of every epoch in use
that the store lacks, opens each with the connector's X25519 key after checking it against
the pinned custodian key (:func:`connectors.custodian.envelope.open_envelope`), records the
states the gateway reports, and forgets the keys of retired epochs. The pinned custodian key
comes from the operator the first time (``--custodian-key``) and from the store afterwards;
a different key is refused unless the operator replaces the pin deliberately.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from connectors.custodian import formats as fm
from connectors.custodian.envelope import open_envelope
from connectors.errors import KeyMaterialError
from connectors.keystore import ConnectorKeys
from connectors.typekeys import EpochKeys, TypeKeyStore
from connectors.workflows.api import GatewayApi

FETCHABLE = frozenset({"pending", "active", "retiring"})


@dataclass(slots=True)
class FetchReport:
    fetched: list[tuple[int, tuple[str, ...]]] = field(default_factory=list)
    missing: list[int] = field(default_factory=list)
    dropped: list[int] = field(default_factory=list)
    states: dict[int, str] = field(default_factory=dict)


def pin_custodian(store: TypeKeyStore, text: str | None, *, replace: bool = False) -> bytes:
    """The custodian key to check envelopes with: given, or pinned in the store before."""
    if text is None:
        if store.custodian_key is None:
            raise KeyMaterialError(
                "no custodian key is pinned yet: give the custodian's public key "
                "(ed25519:..., published by the partnership) with --custodian-key",
                field="custodian key",
            )
        return store.custodian_key
    given = fm.parse_custodian_key(text)
    if store.custodian_key is not None and given != store.custodian_key and not replace:
        raise KeyMaterialError(
            "differs from the custodian key pinned in the type-key store; if the partnership "
            "announced a new custodian key, pass --replace-custodian-key",
            field="custodian key",
        )
    store.custodian_key = given
    return given


def fetch_keys(
    api: GatewayApi,
    store: TypeKeyStore,
    *,
    keys: ConnectorKeys,
    client_id: str,
    custodian_key: bytes,
    epochs: tuple[int, ...] = (),
) -> FetchReport:
    """Fetch and store every usable epoch's envelope the store lacks (or only ``epochs``)."""
    report = FetchReport()
    listing: list[dict[str, Any]] = api.call("GET", "/v1/keys/epochs")["epochs"]
    wanted = set(epochs)
    for item in listing:
        number, state = int(item["epoch"]), str(item["state"])
        report.states[number] = state
        if wanted and number not in wanted:
            continue
        if state not in FETCHABLE or (number in store.epochs and not wanted):
            continue
        if not item.get("envelope"):
            report.missing.append(number)
            continue
        answer = api.call("GET", f"/v1/keys/epochs/{number}/envelope")
        opened = open_envelope(
            answer, keys=keys, client_id=client_id, custodian_key=custodian_key, epoch=number
        )
        store.put(
            EpochKeys(
                epoch=number,
                state=state,
                keys=dict(opened.keys),
                custodian_key_id=opened.custodian_key_id,
                envelope_sha256=opened.sha256,
                fetched_at=datetime.now(tz=UTC).isoformat(timespec="seconds"),
                overlap_ends_at=item.get("overlap_ends_at"),
            )
        )
        report.fetched.append((number, tuple(sorted(k.value for k in opened.keys))))
    unknown = sorted(wanted - set(report.states))
    if unknown:
        raise KeyMaterialError(
            f"the gateway knows no epoch {', '.join(map(str, unknown))}", field="epoch"
        )
    report.dropped = store.update_states(listing)
    return report
