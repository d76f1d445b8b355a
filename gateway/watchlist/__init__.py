"""Watch lists: tokens of a partner's own customers, for alerts when others report them."""
