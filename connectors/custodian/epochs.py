"""What the custodian does with the gateway: new epochs, supplements, activation, retirement.

``new_epoch`` makes a master salt with the operating system's CSPRNG, derives the four type
keys (hashing spec v1), and for every recipient that the policy allows *and* the custodian
has pinned, signs and seals only the kinds that recipient may hold. The salt is kept only as
the custodian's own sealed copy, written to its state file before the upload, and the plain
bytes never touch a disk. Recipients the custodian has not pinned, or whose key changed since
it pinned them, are skipped and reported — the gateway cannot add a recipient of its own.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from joserfc.jwk import OKPKey

from connectors.canonical import Kind
from connectors.custodian import formats as fm
from connectors.custodian.envelope import seal_envelope, x25519_public
from connectors.custodian.state import MASTER_SALT_BYTES, CustodianState, Pin
from connectors.hashing import type_key
from connectors.keystore import ConnectorKeys
from connectors.workflows.api import GatewayApi


@dataclass(slots=True)
class IssueReport:
    """What was sealed for whom, and whom the custodian left out and why."""

    epoch: int
    sealed: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    pinned: list[tuple[str, str]] = field(default_factory=list)
    answer: dict[str, Any] = field(default_factory=dict)


def thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 thumbprint of an X25519 JWK, computed here rather than taken from anyone."""
    key = OKPKey.import_key({"kty": "OKP", "crv": "X25519", "x": str(jwk.get("x", ""))})
    return str(key.thumbprint())


def pin_recipient(state: CustodianState, recipient: Mapping[str, Any]) -> Pin:
    """Trust a recipient's X25519 key (after checking its thumbprint with the partner)."""
    jwk = recipient["encryption_jwk"]
    x25519_public(jwk)  # refuses anything but a well-formed X25519 key
    pin = Pin(
        client_id=str(recipient["client_id"]),
        partner_id=str(recipient["partner_id"]),
        recipient_key_id=thumbprint(jwk),
        x=str(jwk["x"]),
        pinned_at=datetime.now(tz=UTC).isoformat(timespec="seconds"),
    )
    state.pins[pin.client_id] = pin
    return pin


def _trusted(
    state: CustodianState, recipient: Mapping[str, Any], *, pin_new: bool, report: IssueReport
) -> Pin | None:
    client_id = str(recipient["client_id"])
    jwk = recipient.get("encryption_jwk") or {}
    try:
        computed = thumbprint(jwk)
    except (ValueError, TypeError):
        report.skipped.append((client_id, "the gateway lists a malformed X25519 key"))
        return None
    if computed != recipient.get("recipient_key_id"):
        report.skipped.append((client_id, "the key id the gateway lists is not the key's own"))
        return None
    pin = state.pins.get(client_id)
    if pin is None:
        if not pin_new:
            report.skipped.append(
                (
                    client_id,
                    f"not pinned: check thumbprint {computed} with the partner, then "
                    "`ppsgate-connector custodian pin`",
                )
            )
            return None
        pin = pin_recipient(state, recipient)
        report.pinned.append((client_id, computed))
        return pin
    if pin.recipient_key_id != computed or pin.x != jwk.get("x"):
        report.skipped.append(
            (
                client_id,
                f"its key changed since it was pinned (now {computed}); check with the "
                "partner and pin it again",
            )
        )
        return None
    if pin.partner_id != recipient.get("partner_id"):
        report.skipped.append((client_id, "the gateway lists it under another partner"))
        return None
    return pin


def _issued_at() -> str:
    return datetime.now(tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def seal_for_recipients(
    state: CustodianState,
    master_salt: bytes,
    recipients: Iterable[Mapping[str, Any]],
    *,
    epoch: int,
    pin_new: bool,
    report: IssueReport,
    skip: Callable[[str, str], bool] = lambda _client, _key: False,
) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """Seal the listed kinds for each trusted recipient: (manifest entries, upload items)."""
    keys = {kind: type_key(master_salt, kind) for kind in Kind}
    issued_at = _issued_at()
    entries: list[dict[str, Any]] = []
    uploads: list[dict[str, str]] = []
    for recipient in recipients:
        pin = _trusted(state, recipient, pin_new=pin_new, report=report)
        if pin is None or skip(pin.client_id, pin.recipient_key_id):
            continue
        kinds = tuple(sorted(str(kind) for kind in recipient["kinds"]))
        chosen = {Kind(kind): keys[Kind(kind)] for kind in kinds}
        sealed = seal_envelope(
            state.signing_key,
            x25519_public({"kty": "OKP", "crv": "X25519", "x": pin.x}),
            epoch=epoch,
            issued_at=issued_at,
            client_id=pin.client_id,
            partner_id=pin.partner_id,
            recipient_key_id=pin.recipient_key_id,
            keys=chosen,
        )
        entries.append(
            {
                "client_id": pin.client_id,
                "partner_id": pin.partner_id,
                "recipient_key_id": pin.recipient_key_id,
                "kinds": list(kinds),
                "sha256": _sha256(sealed),
            }
        )
        uploads.append({"client_id": pin.client_id, "sealed": fm.b64(sealed)})
        report.sealed.append((pin.client_id, pin.partner_id, kinds))
    return entries, uploads


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def signed_upload(
    state: CustodianState,
    *,
    epoch: int,
    kind: str,
    entries: list[dict[str, Any]],
    uploads: list[dict[str, str]],
) -> dict[str, Any]:
    """The request body: canonical manifest, its signature, and the sealed blobs."""
    manifest = fm.canonical(
        {
            "format": fm.MANIFEST_FORMAT,
            "version": fm.FORMAT_VERSION,
            "spec": fm.SPEC_VERSION,
            "epoch": epoch,
            "kind": kind,
            "issued_at": _issued_at(),
            "custodian_key_id": state.key_id,
            "envelopes": sorted(entries, key=lambda entry: entry["client_id"]),
        }
    )
    signature = fm.sign(state.signing_key, fm.MANIFEST_CONTEXT, manifest)
    return {"manifest": fm.b64(manifest), "signature": fm.b64(signature), "envelopes": uploads}


def next_epoch(api: GatewayApi) -> int:
    listed = api.call("GET", "/v1/keys/epochs")["epochs"]
    return max((int(item["epoch"]) for item in listed), default=0) + 1


def new_epoch(
    api: GatewayApi,
    state: CustodianState,
    own: ConnectorKeys,
    *,
    pin_new: bool = False,
    save: Callable[[CustodianState], None],
) -> IssueReport:
    """Create, seal and upload the next epoch (it starts pending); see the module docstring."""
    number = next_epoch(api)
    listing = api.call("GET", "/v1/keys/recipients")
    report = IssueReport(epoch=number)
    master_salt = secrets.token_bytes(MASTER_SALT_BYTES)  # the OS CSPRNG (os.urandom)
    entries, uploads = seal_for_recipients(
        state, master_salt, listing["recipients"], epoch=number, pin_new=pin_new, report=report
    )
    state.seal_salt(own, number, master_salt)
    del master_salt
    state.issued[number] = {e["client_id"]: e["recipient_key_id"] for e in entries}
    save(state)  # the sealed copy is safe on disk before the epoch exists anywhere else
    body = signed_upload(state, epoch=number, kind="epoch", entries=entries, uploads=uploads)
    report.answer = api.call("POST", "/v1/keys/epochs", json=body)
    report.skipped.extend(
        (str(item["client_id"]), str(item["reason"]))
        for item in listing.get("excluded", [])
        if item["client_id"] != state.client_id  # the custodian's own client needs none
    )
    return report


def issue(
    api: GatewayApi,
    state: CustodianState,
    own: ConnectorKeys,
    *,
    epoch: int,
    clients: Iterable[str] = (),
    pin_new: bool = False,
    save: Callable[[CustodianState], None],
) -> IssueReport:
    """Seal an existing epoch's keys for clients that have none yet (or a new key)."""
    master_salt = state.open_salt(own, epoch)
    wanted = set(clients)
    listing = api.call("GET", "/v1/keys/recipients")
    recipients = [r for r in listing["recipients"] if not wanted or str(r["client_id"]) in wanted]
    missing = wanted - {str(r["client_id"]) for r in recipients}
    report = IssueReport(epoch=epoch)
    report.skipped.extend((client, "not eligible at the gateway now") for client in sorted(missing))
    already = state.issued.get(epoch, {})
    entries, uploads = seal_for_recipients(
        state,
        master_salt,
        recipients,
        epoch=epoch,
        pin_new=pin_new,
        report=report,
        skip=lambda client, key: already.get(client) == key,
    )
    del master_salt
    if not entries:
        save(state)
        return report
    body = signed_upload(state, epoch=epoch, kind="supplement", entries=entries, uploads=uploads)
    report.answer = api.call("POST", f"/v1/keys/epochs/{epoch}/envelopes", json=body)
    state.issued.setdefault(epoch, {}).update(
        {e["client_id"]: e["recipient_key_id"] for e in entries}
    )
    save(state)
    return report


def register(api: GatewayApi, state: CustodianState) -> dict[str, Any]:
    answer: dict[str, Any] = api.call("PUT", "/v1/keys/custodian", json=state.registration())
    return answer


def activate(api: GatewayApi, epoch: int, *, overlap_days: int | None = None) -> dict[str, Any]:
    body = {} if overlap_days is None else {"overlap_days": overlap_days}
    answer: dict[str, Any] = api.call("POST", f"/v1/keys/epochs/{epoch}/activate", json=body)
    return answer


def retire(api: GatewayApi, epoch: int) -> dict[str, Any]:
    answer: dict[str, Any] = api.call("POST", f"/v1/keys/epochs/{epoch}/retire", json={})
    return answer
