"""What the connector does with the gateway: submit, match, watch and read alerts.

Each workflow reads the partner's hashed rows (the ``hash`` command's JSON Lines, or a raw
file hashed on the fly), sends them in batches, and writes results that join back to the
partner's own rows by row number and carried columns. Raw identifiers never leave the
partner's machine: only tokens are sent, and only the partner's own output files may hold
the value.
"""
