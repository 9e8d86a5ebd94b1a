"""Which issuers a config trusts, and where each one's keys are: the ``issuer``,
``jwks_url`` and ``replica_regions`` rules of
:class:`~cognito_helper.settings.config.CognitoConfig`.

A config given no ``issuer=`` trusts both issuer forms of its pool, ORIGINAL
(``https://cognito-idp.{region}.amazonaws.com/{pool}``) and UPDATED
(``https://issuer-cognito-idp.{region}.amazonaws.com/{pool}``), and the ORIGINAL form of each
replica region; :func:`key_urls` says where each one's keys are.
"""

from __future__ import annotations

from typing import Dict, Iterable, List, Tuple, Union, cast

from ..core.arguments import type_name
from ..core.errors import ConfigError
from .fields import is_list, optional_str, region_name, url
from .urls import check_names_this_pool

__all__ = [
    "JWKS_PATH",
    "Derived",
    "issuer",
    "jwks_url",
    "key_urls",
    "original_issuer",
    "replica_regions",
    "updated_issuer",
]


def _issuer_list(value: object) -> Tuple[str, ...]:
    """A string or a list of strings, as a tuple of them."""
    if isinstance(value, str):
        return (value,)
    if not is_list(value):
        raise ConfigError(f"issuer must be a string or a list of strings, got {type_name(value)}")
    listed: List[str] = []
    for one in tuple(cast(Iterable[object], value)):
        if not isinstance(one, str):
            raise ConfigError(
                f"issuer must be a string or a list of strings; found {type_name(one)} in the list"
            )
        listed.append(one)
    return tuple(listed)


#: Where an issuer publishes its keys, below the issuer URL.
JWKS_PATH = "/.well-known/jwks.json"


class Derived(str):
    """An ``issuer`` or ``jwks_url`` a config derived because none was given (see
    :func:`key_urls`). ``dataclasses.replace`` passes it back: it must still name the
    config's pool, and then still means "not given"."""

    __slots__ = ()


def _given(name: str, value: object, pool: str) -> object:
    """``value``, or ``None`` for a :class:`Derived` one (which must name ``pool``)."""
    if isinstance(value, Derived):
        check_names_this_pool(name, (str(value),), pool)
        return None
    return value


def original_issuer(region: str, pool: str) -> str:
    """The ORIGINAL issuer form: ``https://cognito-idp.{region}.amazonaws.com/{pool}``."""
    return f"https://cognito-idp.{region}.amazonaws.com/{pool}"


def updated_issuer(region: str, pool: str) -> str:
    """The UPDATED issuer form: ``https://issuer-cognito-idp.{region}.amazonaws.com/{pool}``."""
    return f"https://issuer-cognito-idp.{region}.amazonaws.com/{pool}"


def replica_regions(value: object, pool_region: str) -> Tuple[str, ...]:
    """The replica regions: a list of region names (or a comma-separated string), each held
    to :data:`AWS_REGION` and other than the pool's own; ``()`` by default."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return ()
    listed = value.split(",") if isinstance(value, str) else value
    if not is_list(listed):
        raise ConfigError(f"replica_regions must be a list of region names, got {type_name(value)}")
    found: List[str] = []
    for one in tuple(cast(Iterable[object], listed)):
        if not isinstance(one, str):
            raise ConfigError(f"replica_regions lists a {type_name(one)}, not a region name")
        name = region_name("replica_regions lists", one.strip())
        if name != pool_region and name not in found:
            found.append(name)
    return tuple(found)


def key_urls(
    issuer: Union[str, Tuple[str, ...]],
    jwks: str,
    pool: str,
    region: str,
    replicas: Tuple[str, ...],
) -> Dict[str, str]:
    """Every issuer a config trusts, each with the URL of its keys, in order.

    ``issuer=`` given: exactly those. Not given (a :class:`Derived` one): the pool's ORIGINAL
    and UPDATED forms and the ORIGINAL form of each replica region. Each issuer's keys are at
    its own ``{issuer}/.well-known/jwks.json``, unless ``jwks_url`` was given: then every
    issuer's keys are there.
    """
    own = not isinstance(jwks, Derived)
    if not isinstance(issuer, Derived):
        if replicas:
            raise ConfigError(
                "replica_regions needs the default issuers: issuer= pins exactly the issuers "
                "given, so list the replica regions' issuers in it, or leave issuer out"
            )
        forms = (issuer,) if isinstance(issuer, str) else issuer
    else:
        forms = (str(issuer), updated_issuer(region, pool))
        forms += tuple(original_issuer(other, pool) for other in replicas)
    return {one: jwks if own else one + JWKS_PATH for one in forms}


def issuer(value: object, pool: str, pool_region: str) -> Union[str, Tuple[str, ...]]:
    """The accepted issuer, or a tuple of them; by default (nothing given) the pool's
    ORIGINAL-form issuer as a :class:`Derived` one, which trusts both forms.

    Each must be an absolute https URL, and an AWS issuer URL must name this pool.
    """
    value = _given("issuer", value, pool)
    if isinstance(value, str):
        value = value.strip()
    if value is None or value == "":
        return Derived(original_issuer(pool_region, pool))
    issuers = _issuer_list(value)
    if not issuers:
        raise ConfigError("issuer must name at least one accepted issuer")
    for one in issuers:
        url("issuer", one, custom_scheme=False)
    check_names_this_pool("issuer", issuers, pool)
    return issuers[0] if len(issuers) == 1 else issuers


def jwks_url(
    value: object, pool: str, pool_region: str, issuer: Union[str, Tuple[str, ...], None] = None
) -> str:
    """The URL keys are fetched from, which must name the pool; by default (a
    :class:`Derived` one) the first issuer's ``{issuer}/.well-known/jwks.json``, or the
    pool's ORIGINAL form's."""
    given = optional_str("jwks_url", _given("jwks_url", value, pool))
    if given is None:
        first = issuer if isinstance(issuer, str) else (issuer or (None,))[0]
        derived = (first or original_issuer(pool_region, pool)) + JWKS_PATH
        check_names_this_pool("jwks_url", (derived,), pool)
        return Derived(derived)
    checked = url("jwks_url", given, custom_scheme=False)
    check_names_this_pool("jwks_url", (checked,), pool)
    return checked
