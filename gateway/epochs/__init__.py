"""Salt epochs: which epoch tokens are made under, and whether it is accepted right now.

The indicators, the watch list and matching check every token's epoch here; key custody
(``gateway.keys``) uploads, activates and retires epochs and, on retirement, purges the
tokens made under them. The epochs' records and the validity check therefore sit below all
of those areas, and key custody above them.
"""
