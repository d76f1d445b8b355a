"""ppsgate gateway: matches peppered tokens under Rego policies and audits every request."""
