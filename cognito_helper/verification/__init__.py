"""Verification: JWS parsing, claim rules, the JWKS and ALB key caches, the memo, the Cognito and
ALB verifiers.

Imports settings and core.
"""
