"""Salt epochs: the custodian's signed, sealed envelopes, relayed but never opened here."""
