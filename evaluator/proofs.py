"""Proof of possession of the partner's own key on every evaluation request.

The gateway's access token says which client asks; the proof says that client's connector
really is the one asking. It is a JWT in RFC 9449's DPoP format sent as the ``DPoP`` header:
``typ`` ``dpop+jwt``, ES256, the public key in the header, and claims ``htm`` (``POST``),
``htu`` (this evaluator's URL and path, so a proof shown to one evaluator is useless at the
other), ``iat`` (within a minute), a single-use ``jti`` and ``ath`` (the SHA-256 of the
access token it travels with). Unlike DPoP-bound tokens it is not tied to a ``cnf`` claim the
gateway writes — the gateway is the party it guards against — but to the key this evaluator
pinned for the client (:mod:`evaluator.client_keys`).
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from evaluator.auth import Caller, jws_header
from evaluator.client_keys import ClientKeys
from evaluator.errors import StorageError, UnauthenticatedError
from evaluator.storage import UsedProof

PROOF_TYPE = "dpop+jwt"
PROOF_ALGORITHMS = ("ES256",)
PROOF_WINDOW_SECONDS = 60
MAX_PROOF_LENGTH = 4096
MAX_JTI_LENGTH = 128


@dataclass(frozen=True)
class VerifiedProof:
    """A proof that passed every check; its ``jti`` must now be recorded as used."""

    client_id: str
    jti: str
    expires_at: int


def _refused(code: str, reason: str) -> UnauthenticatedError:
    return UnauthenticatedError(reason, field="DPoP", code=code)


def token_hash(access_token: str) -> str:
    """``ath``: base64url (no padding) of SHA-256 over the access token's ASCII."""
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _header(proof: str) -> dict[str, Any]:
    header = jws_header(proof)
    if header is None:
        raise _refused("proof-malformed", "the DPoP proof's header is not one of ours")
    return header


class ProofVerifier:
    """Checks one request's proof against the key pinned for the token's client."""

    def __init__(self, clients: ClientKeys, *, clock: Callable[[], float] = time.time) -> None:
        self._clients = clients
        self._clock = clock

    def verify(
        self, proof: str | None, *, caller: Caller, access_token: str, method: str, url: str
    ) -> VerifiedProof:
        if not proof:
            raise _refused(
                "proof-missing",
                "this evaluator needs a DPoP proof signed by the connector's own key",
            )
        if len(proof) > MAX_PROOF_LENGTH or proof.count(".") != 2:
            raise _refused("proof-malformed", "the DPoP proof is not a compact JWS")
        pinned = self._clients.get(caller.client_id)
        if pinned is None:
            raise _refused(
                "client-not-pinned",
                f"no key is pinned at this evaluator for client {caller.client_id!r}; the "
                "partner gives its public key to the evaluator operator",
            )
        if pinned.partner_id != caller.partner_id:
            raise _refused(
                "client-partner-mismatch",
                "the access token names another partner than the one pinned for its client",
            )
        header = _header(proof)
        if header.get("typ") != PROOF_TYPE:
            raise _refused("proof-type", f"the DPoP proof's typ must be {PROOF_TYPE}")
        if header.get("alg") not in PROOF_ALGORITHMS:
            raise _refused("proof-algorithm", "the DPoP proof must be signed ES256")
        if not self._same_key(header.get("jwk"), pinned.thumbprint):
            raise _refused("proof-key", "the DPoP proof is not signed by the client's pinned key")
        try:
            claims = dict(jwt.decode(proof, pinned.key, algorithms=list(PROOF_ALGORITHMS)).claims)
        except JoseError:
            raise _refused(
                "proof-signature", "the DPoP proof's signature does not verify"
            ) from None
        except (TypeError, ValueError, RecursionError):
            raise _refused("proof-malformed", "the DPoP proof is malformed") from None
        return self._claims(claims, caller, access_token=access_token, method=method, url=url)

    @staticmethod
    def _same_key(jwk: Any, thumbprint: str) -> bool:
        if not isinstance(jwk, dict) or "d" in jwk:
            return False
        try:
            return bool(ECKey.import_key(jwk).thumbprint() == thumbprint)
        except (JoseError, ValueError, TypeError):
            return False

    def _claims(
        self, claims: dict[str, Any], caller: Caller, *, access_token: str, method: str, url: str
    ) -> VerifiedProof:
        if claims.get("htm") != method or claims.get("htu") != url:
            raise _refused("proof-target", "the DPoP proof was made for another method or URL")
        issued = claims.get("iat")
        now = int(self._clock())
        if not isinstance(issued, int) or abs(now - issued) > PROOF_WINDOW_SECONDS:
            raise _refused(
                "proof-expired", f"the DPoP proof's iat is not within {PROOF_WINDOW_SECONDS} s"
            )
        jti = claims.get("jti")
        if not isinstance(jti, str) or not 0 < len(jti) <= MAX_JTI_LENGTH:
            raise _refused("proof-claims", "the DPoP proof needs a jti")
        if claims.get("ath") != token_hash(access_token):
            raise _refused("proof-token", "the DPoP proof was made for another access token")
        return VerifiedProof(caller.client_id, jti, issued + PROOF_WINDOW_SECONDS)


def record_use(factory: sessionmaker[Session], proof: VerifiedProof, *, now: int) -> None:
    """Spend the proof's ``jti`` (refused if spent before) and forget the expired ones."""
    try:
        with factory.begin() as session:
            session.execute(delete(UsedProof).where(UsedProof.expires_at < now))
            session.add(
                UsedProof(client_id=proof.client_id, jti=proof.jti, expires_at=proof.expires_at)
            )
    except IntegrityError:
        raise _refused("proof-replayed", "this DPoP proof was used before") from None
    except SQLAlchemyError as exc:
        raise StorageError(f"the evaluator database failed ({type(exc).__name__})") from None
