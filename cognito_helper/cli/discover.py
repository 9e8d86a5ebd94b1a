"""``cognito-helper discover URL``: the ``COGNITO_*`` variables of a pool, read from its
OpenID configuration as ``CognitoConfig.from_discovery`` reads it, printed as ``export``
lines. It prints no secret: it is given none.
"""

from __future__ import annotations

from typing import Dict

from ..settings import fields as _fields
from ..settings.env import ENV_NAMES
from .commands import write_exports
from .context import EXIT_OK, Context

__all__ = ["DISCOVER_HINT", "run_discover"]

#: The hint for a URL or document ``discover`` refused.
DISCOVER_HINT = (
    "give the pool's issuer URL, https://cognito-idp.REGION.amazonaws.com/POOL_ID (the "
    "Cognito console shows it as the token signing key URL without /.well-known/jwks.json), "
    "or its /.well-known/openid-configuration URL; check the network"
)


def run_discover(ctx: Context) -> int:
    """Read the pool's OpenID configuration; print the settings it gives as export lines.

    ``COGNITO_USER_POOL_ID`` and ``COGNITO_DOMAIN`` (when the pool has a domain),
    ``COGNITO_ISSUER`` and ``COGNITO_JWKS_URL`` when they are not the pool's defaults, and
    ``COGNITO_CLIENT_ID`` when ``--client-id`` is given; on stderr, what is left to set.
    """
    from ..settings.discovery import discover  # imported here: it needs requests

    args = ctx.args
    settings: Dict[str, str] = discover(args.url, timeout=args.timeout)
    if args.client_id is not None:
        settings["client_id"] = str(_fields.client_id(args.client_id))
    variables = {name: settings[field] for field, name in ENV_NAMES.items() if field in settings}
    write_exports(ctx.out, variables)
    ctx.out.flush()
    left = [] if args.client_id is not None else [ENV_NAMES["client_id"]]
    left += [ENV_NAMES["client_secret"] + " (a confidential app client)"]
    left += [ENV_NAMES["redirect_uri"], ENV_NAMES["logout_uri"] + " (to sign users in and out)"]
    ctx.err.write(f"next: set {', '.join(left)} yourself\n")
    return EXIT_OK
