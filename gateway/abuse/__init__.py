"""Quotas and enumeration detection: bounding what a key holder can learn by guessing.

Under hashing spec v1 a partner holding a type key can compute the token of any identifier
it guesses and ask the gateway. Nothing in the protocol prevents that; this area bounds it
(per-partner and per-client quotas per purpose, from the policy decision, counted in the
database across workers) and makes it visible (dictionary-style querying raises an alert for
the partnership's DPO). Both are audited.
"""

from gateway.abuse.detection import watch_for_enumeration
from gateway.abuse.quotas import Charge, charge_quota

__all__ = ["Charge", "charge_quota", "watch_for_enumeration"]
