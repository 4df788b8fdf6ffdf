"""SASL initial responses for token logins, shared by IMAP, POP3 and SMTP.

XOAUTH2 is Google's and Microsoft's mechanism; OAUTHBEARER is its standard twin (RFC 7628). Both carry the
access token in clear inside the (TLS-protected) session, so they are built only where they are sent.
"""
from __future__ import annotations


def xoauth2(login: str, token: str) -> bytes:
    """`user=<login>^Aauth=Bearer <token>^A^A` (before base64)."""
    return f"user={login}\x01auth=Bearer {token}\x01\x01".encode()


def oauthbearer(login: str, token: str, host: str = "", port: int = 0) -> bytes:
    """RFC 7628 GS2 header plus the bearer token (before base64)."""
    where = (f"host={host}\x01" if host else "") + (f"port={port}\x01" if port else "")
    return f"n,a={login},\x01{where}auth=Bearer {token}\x01\x01".encode()
