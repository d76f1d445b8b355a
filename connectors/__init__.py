"""ppsgate connector: what a partner runs to canonicalise, hash, submit and match identifiers."""

from connectors.canonical import canonicalize, detect_kind
from connectors.errors import InvalidIdentifier

__all__ = ["InvalidIdentifier", "canonicalize", "detect_kind"]
