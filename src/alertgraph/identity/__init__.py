"""Who is calling: tokens, permissions, signing keys, the OIDC token service and the local TLS CA.

Used by http (authenticate, authorize) and the CLI (mint tokens, add apps); keys live in store.
"""
