"""Verification: one pipeline (:mod:`.pipeline`) with two profiles, Cognito tokens
(:mod:`.cognito`) and an ALB's data tokens (:mod:`.alb`); the stages they share: JWS parsing
(:mod:`.jws`), the claim rules (:mod:`.claims`), the memo (:mod:`.memo`); the key caches
(:mod:`.jwks`, :mod:`.alb_keys`). The order of the checks is said once, in SECURITY.md.

Imports settings and core.
"""
