"""The key custodian: makes each epoch's master salt, derives the type keys, signs and seals
them per recipient, and keeps the only copy of the salt — sealed to itself.

``formats`` holds the byte formats (shared with connectors that open envelopes), ``envelope``
seals and opens, ``state`` is the custodian's own 0600 file, ``epochs`` drives the gateway.
"""
