"""Who plays in the demo and the synthetic identifiers they hold.

All identifiers are synthetic: IBANs are built with correct check digits for made-up account
numbers, phone numbers sit in Dutch ranges that libphonenumber accepts, domains, pages,
addresses and accounts are invented.
"""

from __future__ import annotations

from dataclasses import dataclass
from hashlib import sha256

from schwifty import IBAN

from connectors.canonical.crypto import eip55_checksum
from gateway.auth.permissions import Role
from gateway.scopes import Scope


@dataclass(frozen=True, slots=True)
class DemoPartner:
    partner_id: str
    name: str
    sector: str
    scopes: tuple[Scope, ...]


EXCHANGE_SCOPES = (
    Scope.INDICATORS_WRITE,
    Scope.MATCH_QUERY,
    Scope.WATCHLIST_WRITE,
    Scope.ALERTS_READ,
    Scope.KEYS_READ,
)

STORY_PARTNERS: tuple[DemoPartner, ...] = (
    DemoPartner("marketplace-a", "Marktplaats Demo B.V.", "marketplace", EXCHANGE_SCOPES),
    DemoPartner("bank-a", "Demobank Noord N.V.", "bank", EXCHANGE_SCOPES),
    DemoPartner("bank-b", "Demobank Zuid N.V.", "bank", EXCHANGE_SCOPES),
    DemoPartner("telecom-a", "Demotel B.V.", "telecom", EXCHANGE_SCOPES),
)

# The partnership's key custodian: a trusted third party, not the gateway operator.
CUSTODIAN = DemoPartner(
    "custodian-pps", "Sleutelbeheer Stichting PPS (demo)", "partnership_dpo", (Scope.KEYS_CUSTODY,)
)


@dataclass(frozen=True, slots=True)
class DemoOrganisation:
    """A member of the partnership without a connector: its people use the console only."""

    partner_id: str
    name: str
    sector: str


ORGANISATIONS = (
    DemoOrganisation("dpo-pps", "Functionaris gegevensbescherming PPS (demo)", "partnership_dpo"),
    DemoOrganisation("helpdesk-pps", "Vragenloket PPS (demo)", "helpdesk"),
)


@dataclass(frozen=True, slots=True)
class DemoUser:
    """A console account the demo creates, to sign in with at once."""

    username: str
    role: Role
    partner_id: str
    sees: str


CONSOLE_USERS = (
    DemoUser(
        "dpo.demo",
        Role.PARTNERSHIP_DPO,
        "dpo-pps",
        "the partnership's DPO: every audit entry, policies, the Art. 30 register",
    ),
    DemoUser(
        "fg.bank-a",
        Role.PRIVACY_OFFICER,
        "bank-a",
        "bank-a's privacy officer: bank-a's own audit entries, policies",
    ),
    DemoUser(
        "vragenloket.demo",
        Role.HELPDESK,
        "helpdesk-pps",
        "the legal help desk: the policy simulator and its register of answers",
    ),
)

# The seller who never delivers: an account at bank-a.
SELLER_IBAN = str(IBAN.generate("NL", bank_code="DEMO", account_code="0417164300"))
# Other customers of bank-a, watched too (never reported).
BANK_A_CUSTOMERS = tuple(
    str(IBAN.generate("NL", bank_code="DEMO", account_code=f"{n:010d}"))
    for n in (1234567890, 2345678901, 3456789012)
)
# Bank-a's own helpdesk number, registered as protected (role victim).
BANK_A_HELPDESK = "+31 20 123 4567"
# An honest payee bank-b's customer pays too.
HONEST_IBAN = str(IBAN.generate("NL", bank_code="DEMO", account_code="9876543210"))
# Incoming caller ids the telecom operator screens.
CALLER_IDS = ("0201234567", "+31 6 12345678")

# --- Scenario 12: the phishing page and the cash-out address (gateway.demo.fraud_kinds) ---
# The registry watches pages under its domains; a payment service provider that runs a
# crypto exchange screens deposit addresses.
FRAUD_KINDS_PARTNERS = (
    DemoPartner("registry-nl", "Registry .nl (demo)", "registry", EXCHANGE_SCOPES),
    DemoPartner("psp-a", "Demo Exchange B.V. (crypto exchange, PSP)", "psp", EXCHANGE_SCOPES),
)
PARTNERS = STORY_PARTNERS + FRAUD_KINDS_PARTNERS
# The phishing page bank-a's customers were sent to (an invented look-alike domain).
PHISHING_PAGE = "https://www.demobank-noord-verificatie.nl/inloggen?klant=sms"
# The address the stolen money went on to: 20 bytes derived from a fixed label, written as
# EIP-55 (checksummed) the way a bank's case file holds it.
CASH_OUT_ADDRESS = "0x" + eip55_checksum(sha256(b"ppsgate demo cash-out").hexdigest()[:40])
# The social media account that recruited victims in a friend-in-need case.
RECRUITER_ACCOUNT = "instagram:@Snel.Geld.Demo"

# --- Scenario 13: stop the second payment (gateway.demo.recall) ---
# A money mule's account at bank-a, reported by bank-a; a customer of bank-b paid it yesterday.
MULE_IBAN = str(IBAN.generate("NL", bank_code="DEMO", account_code="5550001234"))
