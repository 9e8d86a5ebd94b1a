"""The rule for each :class:`~cognito_helper.config.CognitoConfig` field, one function a field.

Each function is named after its field, takes the value as given and returns it in its normal
form, or raises :class:`ConfigError` with a message that starts with the field's name (the
CLI and ``CognitoConfig.from_env`` rely on that to name the setting to fix).
"""

from __future__ import annotations

import difflib
import re
from typing import (
    Any,
    Collection,
    Iterable,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    Type,
    Union,
    cast,
)

from ..core.arguments import type_name
from ..core.errors import ConfigError, WrongTypeError
from .urls import check_url, domain_url

__all__ = [
    "ANY_APP_CLIENT",
    "AWS_REGION",
    "MAX_CLIENT_SECRETS",
    "AnyAppClient",
    "app_client_id",
    "callback_url",
    "checked_scopes",
    "client_id",
    "client_secret",
    "client_secret_tuple",
    "closest",
    "domain",
    "is_list",
    "names",
    "optional_str",
    "region",
    "region_name",
    "scope_tuple",
    "scopes",
    "timeout",
    "unknown_keys",
    "url",
    "user_pool_id",
]

# The pool id's shape; the region part is then held to AWS_REGION, for a message naming it.
_POOL_ID = re.compile(r"([a-z0-9-]+)_([0-9A-Za-z]+)")
#: An AWS region name such as ``us-east-1`` or ``us-gov-west-1`` (match it with ``fullmatch``):
#: a known geography (``us``, ``eu``, ``ap``, ... or the European Sovereign Cloud's
#: ``eusc-de``), optionally a partition (``-gov``, ``-iso``, ``-isob``, ...), one of the nine
#: direction words and a number from 1. It refuses a misspelled direction (``us-eest-1``),
#: geography (``su-east-1``) or partition (``us-gvo-west-1``), not a wrong but well-formed
#: region (``us-west-9``) nor a mix of real parts (``eu-gov-east-1``): a key fetch finds those.
AWS_REGION = re.compile(
    r"(?:(?:us|eu|ap|sa|ca|me|af|il|mx|cn)(?:-gov|-iso[a-z]?)?|eusc-[a-z]{2})"
    r"-(?:central|east|west|(?:north|south)(?:east|west)?)-[1-9][0-9]*"
)
_REGION_EXAMPLES = "'us-east-1', 'eu-central-2', 'ap-southeast-5' or 'us-gov-west-1'"
# RFC 6749 section 3.3: a scope token is printable ASCII except space, '"' and '\'.
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5B\x5D-\x7E]+")


def optional_str(name: str, value: object) -> Optional[str]:
    """``value`` stripped, ``None`` when unset or blank; ConfigError naming ``name`` if not text."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{name} must be a string, got {type_name(value)}")
    return value.strip() or None


def closest(name: str, known: Iterable[str]) -> Optional[str]:
    """The one of ``known`` that ``name`` most likely misspells, or ``None`` if none is close.

    The one rule for suggesting a setting's name (difflib's similarity ratio, at least 0.6),
    used for unknown config keys and unknown ``COGNITO_*`` variables alike.
    """
    matches = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return matches[0] if matches else None


def unknown_keys(given: Iterable[object], known: Collection[str]) -> Optional[str]:
    """The message for the keys of ``given`` not in ``known``; ``None`` when there are none.

    Each unknown key is followed by the known key it most likely misspells (see
    :func:`closest`), and the message lists the known keys.
    """
    unknown = sorted(str(key) for key in given if key not in known)
    if not unknown:
        return None
    named = []
    for key in unknown:
        meant = closest(key, known)
        named.append(key if meant is None else f"{key} (did you mean {meant!r}?)")
    return f"unknown config key(s) {', '.join(named)}; known keys: {', '.join(sorted(known))}"


def url(name: str, value: object, *, custom_scheme: bool) -> str:
    """``value`` if it is a string and an absolute URL fit for ``name`` (see ``check_url``)."""
    if not isinstance(value, str):
        raise ConfigError(f"{name} must be a string (an absolute URL), got {type_name(value)}")
    return check_url(name, value, custom_scheme=custom_scheme)


def user_pool_id(value: object) -> Tuple[str, str]:
    """The pool id, stripped, and the region it names; it must read ``{region}_{id}``."""
    pool = optional_str("user_pool_id", value)
    if pool is None:
        raise ConfigError("user_pool_id is required (e.g. 'us-east-1_AbC123')")
    match = _POOL_ID.fullmatch(pool)
    if not match:
        raise ConfigError(
            f"user_pool_id {pool!r} does not look like a Cognito pool id "
            "('{region}_{id}', e.g. 'us-east-1_AbC123')"
        )
    if not AWS_REGION.fullmatch(match.group(1)):
        raise ConfigError(
            f"user_pool_id {pool!r}: {match.group(1)!r} is not an AWS region (such as "
            f"{_REGION_EXAMPLES}): copy the pool id from the Cognito console"
        )
    return pool, match.group(1)


class AnyAppClient:
    """The type of :data:`ANY_APP_CLIENT`, which is its only instance."""

    __slots__ = ()

    def __new__(cls) -> AnyAppClient:
        """The one instance (made once, below), so that ``is`` finds it everywhere."""
        return _ANY

    def __repr__(self) -> str:
        return "ANY_APP_CLIENT"

    def __reduce__(self) -> str:
        return "ANY_APP_CLIENT"  # copy, deepcopy and pickle give back the one instance


_ANY: AnyAppClient = object.__new__(AnyAppClient)
#: ``CognitoConfig(client_id=ANY_APP_CLIENT, ...)``: a token of ANY app client of the pool
#: passes the ``aud``/``client_id`` check; every other check still runs. The explicit opt-in
#: of a resource server that authorizes by scopes (docs/verifying.md, "Several clients and
#: pools").
ANY_APP_CLIENT: AnyAppClient = _ANY


def client_id(value: object) -> Union[str, AnyAppClient]:
    """The app client id, stripped: required, without spaces or ``*``; or ``ANY_APP_CLIENT``.

    Trusting any client of the pool is never the result of a missing, empty or wildcard
    value: only the :data:`ANY_APP_CLIENT` object itself gives it (not reachable from
    ``COGNITO_CLIENT_ID``, whose value is always a string).
    """
    if value is _ANY:
        return _ANY
    client = optional_str("client_id", value)
    if client is None:
        raise ConfigError("client_id is required")
    if any(c.isspace() for c in client):
        raise ConfigError("client_id must not contain spaces")
    if "*" in client:
        raise ConfigError(
            f"client_id {client!r} is not an app client id: no wildcard is read here. To "
            "trust every app client of the pool, give client_id=cognito_helper.ANY_APP_CLIENT "
            "in code (see docs/verifying.md, 'Several clients and pools')"
        )
    return client


def app_client_id(value: Union[str, AnyAppClient], needed_by: str) -> str:
    """A config's ``client_id`` for ``needed_by``, which needs one real app client id.

    Raises :class:`ConfigError` when the config was built with :data:`ANY_APP_CLIENT`,
    which only verifying tokens can use.
    """
    if type(value) is str:
        return value
    raise ConfigError(
        f"client_id is ANY_APP_CLIENT, which only verifies tokens: {needed_by} needs the id "
        "of one app client (build a CognitoConfig with it)"
    )


def region_name(setting: str, name: str) -> str:
    """The one region rule: ``name`` must be an AWS region (:data:`AWS_REGION`); else a
    :class:`ConfigError` naming ``setting``."""
    if not AWS_REGION.fullmatch(name):
        raise ConfigError(f"{setting} {name!r} is not an AWS region (such as {_REGION_EXAMPLES})")
    return name


def region(value: object, pool: str, pool_region: str) -> str:
    """The region: the pool id's own, which a given one must agree with."""
    given = region_name("region", optional_str("region", value) or pool_region)
    if given != pool_region:
        raise ConfigError(
            f"region {given!r} contradicts user_pool_id {pool!r}, whose region is "
            f"{pool_region!r}: leave region out (it is derived from the pool id) or "
            f"correct it. For a hosted-UI domain in another region, give domain as a "
            "full URL. (If this config came from dataclasses.replace(config, "
            "user_pool_id=...), which keeps the old region, issuer and jwks_url, build a "
            "new CognitoConfig instead.)"
        )
    return given


#: How many secrets an app client may have at once (``AddUserPoolClientSecret``).
MAX_CLIENT_SECRETS = 2


def _secret_list(value: object) -> Tuple[str, ...]:
    """The secrets of ``value``: a string, or a list (or tuple) of them; never shown."""
    if isinstance(value, str):
        if "," in value:
            # No Cognito secret holds one (their pattern is [\w+]+): two secrets in one string.
            raise ConfigError(
                "client_secret contains a comma: give two secrets as a list, [first, second] "
                "(COGNITO_CLIENT_SECRET alone separates them with a comma)"
            )
        listed: Tuple[object, ...] = (value,)
    elif type(value) in (list, tuple):
        listed = tuple(cast(Iterable[object], value))
    else:
        raise ConfigError(
            f"client_secret must be a string or a list of up to two strings, got {type_name(value)}"
        )
    secrets = []
    for one in listed:
        if not isinstance(one, str):
            raise ConfigError(
                f"client_secret must be a string or a list of strings; found {type_name(one)} "
                "in the list"
            )
        secrets.append(one.strip())
    return tuple(secrets)


def client_secret(value: object, client: Any) -> Union[str, Tuple[str, str], None]:
    """The app client's secret, stripped, or its two secrets (a tuple, in the order given:
    the first is used); ``None`` for a public client (also for ``""`` or ``[]``).

    Cognito allows up to two secrets per app client, so that one can be rotated without
    downtime. A secret belongs to one app client, so a config for ``ANY_APP_CLIENT`` has
    none. No message shows a secret.
    """
    if value is None:
        return None
    secrets = _secret_list(value)
    if secrets in ((), ("",)):
        return None
    if len(secrets) > MAX_CLIENT_SECRETS:
        raise ConfigError(
            f"client_secret lists {len(secrets)} secrets: Cognito allows at most two per app "
            "client (the current one and the one replacing it)"
        )
    if "" in secrets:
        raise ConfigError("client_secret lists an empty secret")
    if len(set(secrets)) != len(secrets):
        raise ConfigError("client_secret lists the same secret twice")
    if client is _ANY:
        raise ConfigError("client_secret belongs to one app client, not to ANY_APP_CLIENT")
    return secrets[0] if len(secrets) == 1 else (secrets[0], secrets[1])


def client_secret_tuple(value: Union[str, Sequence[str], None]) -> Tuple[str, ...]:
    """A config's checked ``client_secret``, as a tuple of its secrets (empty for none)."""
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def domain(value: object, region: str) -> Optional[str]:
    """The hosted-UI base URL made from a prefix, a custom host or a URL; ``None`` when unset."""
    given = optional_str("domain", value)
    return None if given is None else domain_url(given, region)


def callback_url(name: str, value: object) -> Optional[str]:
    """``redirect_uri`` or ``logout_uri``: https, http on loopback, or a native-app scheme."""
    given = optional_str(name, value)
    return None if given is None else url(name, given, custom_scheme=True)


def _scope_problem(scope: str) -> Optional[str]:
    """Why ``scope``, a name :func:`names` read, is not one scope name, or ``None``."""
    if "," in scope:
        # Legal in RFC 6749 and in Cognito's ScopeName pattern, but in practice always a
        # comma-separated list, which Cognito refuses (invalid_scope).
        return (
            f"scopes entry {scope!r} contains a comma: scopes are space-separated "
            "('openid email'), or given as a list of strings"
        )
    if not _SCOPE_TOKEN.fullmatch(scope):
        return (
            f"scopes entry {scope!r} is not a scope name: printable ASCII without spaces, '\"' "
            "or '\\' (e.g. 'openid' or 'resource-server/scope-name')"
        )
    return None


def is_list(value: object) -> bool:
    """Whether ``value`` may stand for a list of strings (not text, bytes or a mapping)."""
    return isinstance(value, Iterable) and not isinstance(value, (str, bytes, bytearray, Mapping))


def _type_error(error: Type[Exception]) -> Type[Exception]:
    """What a value of the wrong type raises where an invalid one raises ``error``."""
    return WrongTypeError if error is ValueError else error


def names(name: str, value: Any, error: Type[Exception], *, empty: bool = False) -> Tuple[str, ...]:
    """The one rule for every ``scopes``, ``groups`` and ``audience`` option of the library.

    A string is a space-separated list of names: it is split on whitespace (OAuth 2.0 scope
    strings are space-separated, and no Cognito scope, group or resource-server name holds a
    space). Any other iterable (not bytes or a mapping) lists the names one by one, each a
    non-empty string without whitespace. Naming none (``""``, ``"  "``, ``[]``) is allowed
    only with ``empty`` (a config's or a sign-in URL's scopes, where it means "no ``scope``
    parameter"): a requirement of one of no names could never be met, and asking Cognito for
    its default scopes is said with ``None``. Anything else is ``error``, naming ``name``;
    except that where ``error`` is ``ValueError`` (a call's argument), a value of the wrong
    type is a :class:`WrongTypeError` (a ``TypeError``, see docs/errors.md).
    """
    if isinstance(value, str):
        found: Tuple[str, ...] = tuple(value.split())
    else:
        kind = type(value)
        # A list or tuple without the abstract-class tests (a guard's options are read per call).
        if kind is not tuple and kind is not list and not is_list(value):
            raise _type_error(error)(
                f"{name} must be a space-separated string or a list of strings, "
                f"got {type_name(value)}"
            )
        found = tuple(value)
        for item in found:
            if type(item) is not str and not isinstance(item, str):
                raise _type_error(error)(
                    f"{name} must be a space-separated string or a list of strings; found "
                    f"{type_name(item)} {item!r} in the list"
                )
            if item.split() != [item]:
                raise error(
                    f"{name} must list non-empty names without spaces, found {item!r} (give "
                    "one space-separated string, or a list with one name per entry)"
                )
    if not found and not empty:
        raise error(f"{name} names nothing: give one or more names, or None")
    return found


def checked_scopes(value: object, error: Type[Exception]) -> Tuple[str, ...]:
    """Scopes given as a space-separated string or an iterable of strings (:func:`names`), as
    a tuple.

    Raises ``error`` for any other type, and for an entry :func:`_scope_problem` refuses.
    """
    checked = names("scopes", value, error, empty=True)
    for item in checked:
        problem = _scope_problem(item)
        if problem is not None:
            raise error(problem)
    return checked


def scope_tuple(scopes: Union[str, Iterable[str]]) -> Tuple[str, ...]:
    """Scopes given to a call as a space-separated string or a list, as a tuple.

    Raises ``ValueError`` for anything else, for an empty or space-holding entry, and for a
    comma-separated ``"openid,email"`` (scopes are space-separated).
    """
    return checked_scopes(scopes, ValueError)


def scopes(value: object, default: Tuple[str, ...]) -> Tuple[str, ...]:
    """The scopes as a tuple; an empty string means unset, as for every setting: ``default``."""
    if isinstance(value, str) and not value.split():
        return default
    return checked_scopes(value, ConfigError)


def timeout(value: object, error: Type[Exception] = ConfigError) -> float:
    """The one rule for every HTTP timeout of the library (a config's, an ALB verifier's): an
    int or float of seconds in (0, 300]; else ``error`` (a ``ConfigError`` for a config, a
    ``ValueError`` for a verifier's option)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise error(f"timeout must be a number of seconds (int or float), got {type_name(value)}")
    if not (0 < value <= 300):
        raise error("timeout must be a number of seconds between 0 and 300")
    return value
