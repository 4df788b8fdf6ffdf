"""OAuth2 for mailboxes (Microsoft 365, Google, any RFC 6749/8628 provider): consent from a terminal, tokens
kept sealed in the store and refreshed once when due, SASL XOAUTH2/OAUTHBEARER strings for the protocols.

providers.py (presets), client.py (token endpoint), device_flow.py (RFC 8628), browser_flow.py (PKCE and
loopback), microsoft.py (msal), authorize.py (one consent), tokens.py (the grant in the store), sasl.py.
"""
