"""The OAuth endpoints: code, refresh, revoke and userInfo; client credentials (M2M) and token
stores.

Imports settings and core.
"""
