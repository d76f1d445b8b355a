"""Tamper-evident audit log primitives (RFC 6962 Merkle trees, C2SP checkpoints).

Usable without the gateway: privacy officers, witnesses and regulators verify with it.
"""
