"""LocalCognito's issuer forms and replica regions, on its loopback URL.

Cognito's two issuer forms differ by host (``cognito-idp`` and ``issuer-cognito-idp``); on one
loopback server they differ by path instead, and each publishes its keys and its OpenID
configuration below itself, as Cognito's do:

* ORIGINAL: ``{url}/{pool}``;
* UPDATED: ``{url}/issuer-cognito-idp/{pool}``, whose key set answers 403 until the pool has
  switched to it (as AWS answers for a pool still on the ORIGINAL form);
* a replica region's ORIGINAL form: ``{url}/{region}/{pool}``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable, Dict, Optional, Sequence, Tuple

from ..settings.config import CognitoConfig
from ..settings.fields import region_name
from ..settings.issuers import JWKS_PATH
from .wire import Endpoint, Request, Response, json_response

__all__ = ["ISSUER_FORMS", "IssuerForms"]

#: The values of ``issuer_form``.
ISSUER_FORMS = ("original", "updated")
_UPDATED_PREFIX = "/issuer-cognito-idp"


def checked_form(form: object) -> str:
    """``"original"`` or ``"updated"``; ``ValueError`` otherwise."""
    if form not in ISSUER_FORMS:
        raise ValueError("issuer_form must be 'original' or 'updated'")
    return str(form)


class IssuerForms:
    """Which issuer a LocalCognito signs with now, and every issuer it publishes.

    ``form`` (``"original"`` or ``"updated"``) may be switched while it runs, as a pool's
    ``IssuerConfiguration`` may; ``serving_region`` (``None``, the primary region, or one of
    ``replica_regions``) is the replica that issues the next tokens. With the UPDATED form
    every region issues the UPDATED issuer, as Cognito's replicas do.
    """

    def __init__(
        self, pool: str, form: str, replica_regions: Sequence[str], url: Callable[[], str]
    ) -> None:
        self.pool = pool
        self._form = checked_form(form)
        self.replica_regions: Tuple[str, ...] = tuple(
            region_name("replica_regions lists", region) for region in replica_regions
        )
        self._serving_region: Optional[str] = None
        self._url = url

    @property
    def form(self) -> str:
        """The issuer form it signs with now: ``"original"`` or ``"updated"``."""
        return self._form

    @form.setter
    def form(self, form: str) -> None:
        self._form = checked_form(form)

    @property
    def serving_region(self) -> Optional[str]:
        """The replica region issuing tokens now; ``None`` for the primary region."""
        return self._serving_region

    @serving_region.setter
    def serving_region(self, region: Optional[str]) -> None:
        if region is not None and region not in self.replica_regions:
            raise ValueError(f"serving_region must be None or one of {self.replica_regions}")
        self._serving_region = region

    def path(self, form: str = "original", region: Optional[str] = None) -> str:
        """The path of an issuer: ``form``'s, or a replica ``region``'s ORIGINAL form."""
        if checked_form(form) == "updated":
            return f"{_UPDATED_PREFIX}/{self.pool}"
        return f"/{region}/{self.pool}" if region is not None else f"/{self.pool}"

    def paths(self) -> Tuple[str, ...]:
        """Every issuer's path: ORIGINAL, UPDATED, then each replica region's."""
        replicas = tuple(self.path(region=region) for region in self.replica_regions)
        return (self.path(), self.path("updated"), *replicas)

    @property
    def issuer(self) -> str:
        """The ``iss`` the next token carries."""
        region = None if self.form == "updated" else self._serving_region
        return self._url() + self.path(self.form, region)

    @property
    def issuers(self) -> Tuple[str, ...]:
        """Every issuer published: ORIGINAL, UPDATED, then each replica region's."""
        return tuple(self._url() + path for path in self.paths())

    def config(self, config: CognitoConfig) -> CognitoConfig:
        """``config`` trusting every issuer published, each with its own key set URL, as a
        config given no ``issuer=`` trusts Cognito's."""
        return replace(config, issuer=self.issuers, jwks_url=None)

    def routes(self, jwks: Endpoint, document: Endpoint) -> Dict[str, Dict[str, Endpoint]]:
        """The key set and OpenID configuration routes of every issuer."""
        routes: Dict[str, Dict[str, Endpoint]] = {}
        for path in self.paths():
            guard = self._guarded if path.startswith(_UPDATED_PREFIX) else _as_is
            routes[path + JWKS_PATH] = {"GET": guard(jwks)}
            routes[path + "/.well-known/openid-configuration"] = {"GET": guard(document)}
        return routes

    def _guarded(self, endpoint: Endpoint) -> Endpoint:
        def answer(request: Request) -> Response:
            if self.form != "updated":
                return json_response(403, {"message": "Forbidden"})
            return endpoint(request)

        return answer


def _as_is(endpoint: Endpoint) -> Endpoint:
    return endpoint
