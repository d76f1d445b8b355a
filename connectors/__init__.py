"""ppsgate connector: what a partner runs to canonicalise, hash, submit and match identifiers."""
