"""The web console for privacy officers, the help desk and operators (server-rendered pages)."""
