"""A local, Cognito-compatible hosted UI and token provider for tests, demos and examples.

:class:`LocalCognito` serves the user-pool endpoints an app talks to (``/oauth2/authorize``,
``/login``, ``/oauth2/token``, ``/oauth2/revoke``, ``/oauth2/userInfo``, ``/logout`` and the
pool's ``.well-known`` JWKS and discovery documents) on a loopback port, and issues real RS256
tokens shaped like Cognito's. ``lc.config`` points the whole library at it::

    with LocalCognito() as lc:
        lc.add_user("alice", "correct horse", email="alice@example.com", groups=["admin"])
        login = lc.config.start_login()
        redirect = lc.sign_in(login.url, "alice", "correct horse")  # what a browser does
        # hand `redirect` to the app's callback: it carries ?code=...&state=...

Everything goes over real HTTP/1.1 with keep-alive, so the library's HTTP code, error mapping
and key caching run as they will against Cognito. It is a test double: passwords are kept in
memory in clear, so it must never listen on anything but a loopback address.

``import cognito_helper`` does not import this package; it is imported on demand. Where things are:
:mod:`.local_cognito` (LocalCognito, which ties the parts together), :mod:`.store` (clients, users,
codes, refresh tokens), :mod:`.keys` and :mod:`.minting` (signing keys; claims and signatures),
:mod:`.customisation` (the pre-token-generation hook), :mod:`.hosted_ui` (authorize, login and
logout pages), :mod:`.oauth` (token, revoke, userInfo), :mod:`.client_auth` (how a client
authenticates), :mod:`.discovery` (``.well-known``), :mod:`.router` (paths to endpoints),
:mod:`.pages` (HTML), :mod:`.wire` (requests and responses), :mod:`.browser` (the sign-in
simulator), :mod:`.server` (the one loopback HTTP server, which the project's tests, fuzz targets
and benchmark use too) and :mod:`.alb` (:class:`LocalALB`: the headers an Application Load Balancer
adds, and its key endpoint). :func:`reset` (:mod:`.state`) empties every cache, memo, key cache,
M2M slot and the default config of the process, as between tests.
"""

from __future__ import annotations

from .alb import LocalALB
from .browser import SignInError
from .client_auth import PresentedClientAuth
from .customisation import PreTokenGeneration
from .keys import KeyPool
from .local_cognito import LocalCognito
from .oauth import TokenEndpointFault, TokenEndpointHold
from .state import reset

__all__ = [
    "KeyPool",
    "LocalALB",
    "LocalCognito",
    "PreTokenGeneration",
    "PresentedClientAuth",
    "SignInError",
    "TokenEndpointFault",
    "TokenEndpointHold",
    "reset",
]
