"""Matching: who else reported a token, disclosed only as far as the policy grants."""
