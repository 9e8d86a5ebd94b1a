"""Framework integrations: the RFC 6750 mapping and the Flask, FastAPI, Django/DRF and Lambda
guards.

Imports every layer below; users import them as ``cognito_helper.flask`` and so on.
"""
