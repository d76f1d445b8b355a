"""The demo's key custody: a custodian makes epoch 1 and each partner fetches its keys.

It runs the real flow over HTTP — the custodian registers its Ed25519 key, seals each
partner's type keys to that partner's X25519 key, uploads and activates the epoch; each
partner downloads its own envelope, checks it against the custodian key it pinned and opens
it. So the telecom operator ends up with a phone key only, and the gateway never held a salt.
The custodian state and each partner's type-key store are written (mode 0600) beside the
demo's key stores, so the connector commands can be tried against the served demo.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from connectors.cli.gateway_options import ClientApi
from connectors.client import GatewayClient
from connectors.custodian import epochs as custody
from connectors.custodian.fetch import fetch_keys
from connectors.custodian.state import CustodianState, save_state
from connectors.hashing import HmacTokeniserV1
from connectors.typekeys import TypeKeyStore, save_typekeys
from gateway.demo.setup import DemoClient


@dataclass(frozen=True, slots=True)
class Distribution:
    """What the demo prints about custody, and each partner's tokeniser."""

    epoch: int
    custodian_key: str
    kinds: dict[str, tuple[str, ...]]
    tokenisers: dict[str, HmacTokeniserV1]


def distribute(
    url: str, custodian: DemoClient, partners: dict[str, DemoClient], directory: Path
) -> Distribution:
    """Epoch 1 through the custodian flow; partners' tokenisers from their own envelopes."""
    state = CustodianState.generate(custodian.client_id)
    state_path = directory / "custodian" / "custodian-state.json"

    def save(current: CustodianState) -> None:
        save_state(state_path, current, passphrase=None)

    with GatewayClient(url, custodian.client_id, custodian.keys) as client:
        api = ClientApi(client)
        custody.register(api, state)
        # The demo pins every partner's key on first sight; a real custodian confirms each
        # thumbprint with the partner first (``custodian pin``).
        report = custody.new_epoch(api, state, custodian.keys, pin_new=True, save=save)
        custody.activate(api, report.epoch)
    save(state)

    tokenisers: dict[str, HmacTokeniserV1] = {}
    kinds: dict[str, tuple[str, ...]] = {}
    for partner_id, demo in partners.items():
        store = TypeKeyStore(custodian_key=state.public_key)
        with GatewayClient(url, demo.client_id, demo.keys) as client:
            fetched = fetch_keys(
                ClientApi(client),
                store,
                keys=demo.keys,
                client_id=demo.client_id,
                custodian_key=state.public_key,
            )
        save_typekeys(demo.keystore.with_name("typekeys.json"), store, passphrase=None)
        kinds[partner_id] = dict(fetched.fetched).get(report.epoch, ())
        tokenisers[partner_id] = HmacTokeniserV1(store.active().type_keys())
    return Distribution(report.epoch, state.key_text, kinds, tokenisers)
