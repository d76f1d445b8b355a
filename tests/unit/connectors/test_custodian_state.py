"""The custodian's state file, its sealed salts, and whom it trusts."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import nacl.pwhash
import pytest

from connectors.custodian import epochs as custody
from connectors.custodian.formats import CustodyFormatError
from connectors.custodian.state import CustodianState, load_state, save_state
from connectors.keystore import ConnectorKeys
from connectors.secretfile import SecretFileError

FAST = {
    "opslimit": nacl.pwhash.argon2id.OPSLIMIT_MIN,
    "memlimit": nacl.pwhash.argon2id.MEMLIMIT_MIN,
}


def recipient(keys: ConnectorKeys, client_id: str = "bank-a-c1") -> dict[str, Any]:
    jwk = keys.public_encryption_jwk()
    return {
        "client_id": client_id,
        "partner_id": client_id.rsplit("-c", 1)[0],
        "recipient_key_id": jwk["kid"],
        "encryption_jwk": jwk,
        "kinds": ["iban"],
    }


def test_the_salt_is_kept_only_sealed(tmp_path: Path) -> None:
    own = ConnectorKeys.generate()
    state = CustodianState.generate("custodian-c1")
    salt = os.urandom(32)
    state.seal_salt(own, 3, salt)
    path = tmp_path / "state.json"
    save_state(path, state, passphrase="correct horse", **FAST)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    raw = path.read_bytes()
    for form in (salt, salt.hex().encode()):
        assert form not in raw
    with pytest.raises(SecretFileError, match="wrong passphrase"):
        load_state(path, passphrase="wrong")
    loaded = load_state(path, passphrase="correct horse")
    assert loaded.open_salt(own, 3) == salt
    assert loaded.key_id == state.key_id
    with pytest.raises(CustodyFormatError, match="does not open"):
        loaded.open_salt(ConnectorKeys.generate(), 3)
    with pytest.raises(CustodyFormatError, match="holds no salt for epoch 4"):
        loaded.open_salt(own, 4)


def test_a_sealed_salt_swapped_between_epochs_is_refused() -> None:
    own = ConnectorKeys.generate()
    state = CustodianState.generate("custodian-c1")
    state.seal_salt(own, 1, b"\x01" * 32)
    state.salts[2] = state.salts[1]
    with pytest.raises(CustodyFormatError, match="another's"):
        state.open_salt(own, 2)


def test_unpinned_and_changed_recipients_are_skipped() -> None:
    state = CustodianState.generate("custodian-c1")
    bank, telecom = ConnectorKeys.generate(), ConnectorKeys.generate()
    report = custody.IssueReport(epoch=1)
    entries, _ = custody.seal_for_recipients(
        state, b"\x02" * 32, [recipient(bank)], epoch=1, pin_new=False, report=report
    )
    assert entries == []
    assert "not pinned" in report.skipped[0][1]

    custody.pin_recipient(state, recipient(bank))
    replaced = recipient(telecom, "bank-a-c1")  # the gateway now lists another key
    lying = {**recipient(bank), "recipient_key_id": replaced["recipient_key_id"]}
    report = custody.IssueReport(epoch=1)
    entries, _ = custody.seal_for_recipients(
        state, b"\x02" * 32, [replaced, lying], epoch=1, pin_new=True, report=report
    )
    assert entries == []
    reasons = [reason for _, reason in report.skipped]
    assert "its key changed since it was pinned" in reasons[0]
    assert reasons[1] == "the key id the gateway lists is not the key's own"

    report = custody.IssueReport(epoch=1)
    entries, uploads = custody.seal_for_recipients(
        state, b"\x02" * 32, [recipient(bank)], epoch=1, pin_new=False, report=report
    )
    assert [e["kinds"] for e in entries] == [["iban"]]
    assert uploads[0]["client_id"] == "bank-a-c1"
