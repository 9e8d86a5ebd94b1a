"""The core: errors, base64url and JSON decoding, the one HTTP path, claim types.

Imports no other layer of the package.
"""
