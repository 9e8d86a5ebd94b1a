"""Configuration: the CognitoConfig value object, its fields and environment variables, the
hosted-UI URLs and PKCE.

Imports only the core.
"""
