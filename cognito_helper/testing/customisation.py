"""LocalCognito's pre-token-generation hook, shaped like Cognito's V2/V3 Lambda trigger.

The hook is called with an event shaped like the trigger's (``version``, ``triggerSource``,
``region``, ``userPoolId``, ``userName``, ``callerContext.clientId``, ``request.userAttributes``,
``request.groupConfiguration``, ``request.scopes``, and ``response`` with
``claimsAndScopeOverrideDetails`` set to ``None``) and returns the response's
``claimsAndScopeOverrideDetails``: ``idTokenGeneration`` and ``accessTokenGeneration``
(``claimsToAddOrOverride``, ``claimsToSuppress``; the access token also ``scopesToAdd`` and
``scopesToSuppress``) and ``groupOverrideDetails`` (``groupsToOverride``,
``iamRolesToOverride``, ``preferredRole``). A Lambda-style handler that fills in
``event["response"]`` and returns the event works too; ``None`` changes nothing.

What Cognito does not let the trigger change is refused, and so is a response of the wrong
shape or a hook that raises: the token request is then answered ``400 invalid_request``
("PreTokenGeneration failed with error: ..."), as a failing trigger fails the sign-in.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence

from .wire import EndpointError, oauth_error

__all__ = ["Overrides", "PreTokenGeneration", "check_hook", "run_hook"]

PreTokenGeneration = Callable[[Dict[str, Any]], Any]
"""The hook: takes the trigger event, returns ``claimsAndScopeOverrideDetails`` (or the event)."""

# Claims the trigger may not add, override or suppress: the token's identity, lifetime and
# binding, and what Cognito sets itself (scopes change through scopesToAdd/scopesToSuppress,
# groups through groupOverrideDetails).
PROTECTED_CLAIMS = frozenset(
    {
        "acr", "amr", "at_hash", "aud", "auth_time", "azp", "client_id", "cognito:username",
        "event_id", "exp", "iat", "identities", "iss", "jti", "nbf", "nonce", "origin_jti",
        "scope", "sub", "token_use", "username", "version",
    }
)  # fmt: skip
# ID-token claims that may only hold a string, number or boolean, never an object or array.
_ID_SCALAR_CLAIMS = frozenset({"email_verified", "phone_number_verified", "updated_at", "address"})
_TOKEN_PARTS = MappingProxyType(
    {
        "idTokenGeneration": ("claimsToAddOrOverride", "claimsToSuppress"),
        "accessTokenGeneration": (
            "claimsToAddOrOverride",
            "claimsToSuppress",
            "scopesToAdd",
            "scopesToSuppress",
        ),
    }
)
_GROUP_PARTS = ("groupsToOverride", "iamRolesToOverride", "preferredRole")


def refused(reason: str) -> EndpointError:
    """The token endpoint's answer when the trigger fails."""
    return oauth_error("invalid_request", f"PreTokenGeneration failed with error: {reason}")


@dataclass(frozen=True)
class Overrides:
    """A checked ``claimsAndScopeOverrideDetails``: what to change in each token."""

    id_token: Mapping[str, Any] = field(default_factory=dict)
    access_token: Mapping[str, Any] = field(default_factory=dict)
    groups: Mapping[str, Any] = field(default_factory=dict)

    def apply_id(self, claims: Dict[str, Any]) -> None:
        """Change an ID token's claims: groups, roles, preferred role, then the claims."""
        _set_list(claims, "cognito:groups", self.groups.get("groupsToOverride"))
        _set_list(claims, "cognito:roles", self.groups.get("iamRolesToOverride"))
        if self.groups.get("preferredRole") is not None:
            claims["cognito:preferred_role"] = self.groups["preferredRole"]
        _change_claims(claims, self.id_token)

    def apply_access(self, claims: Dict[str, Any]) -> None:
        """Change an access token's claims: groups, the claims, then the scopes."""
        _set_list(claims, "cognito:groups", self.groups.get("groupsToOverride"))
        _change_claims(claims, self.access_token)
        scopes = list(dict.fromkeys(claims.get("scope", "").split()))
        scopes += [s for s in self.access_token.get("scopesToAdd", ()) if s not in scopes]
        suppress = set(self.access_token.get("scopesToSuppress", ()))
        scope = " ".join(s for s in scopes if s not in suppress)
        if scope:
            claims["scope"] = scope
        else:
            claims.pop("scope", None)


def _set_list(claims: Dict[str, Any], name: str, values: Optional[List[str]]) -> None:
    """Override a list claim; an empty override removes it, as Cognito omits empty groups."""
    if values is None:
        return
    if values:
        claims[name] = list(values)
    else:
        claims.pop(name, None)


def _change_claims(claims: Dict[str, Any], part: Mapping[str, Any]) -> None:
    """Add or override, then suppress (a claim both added and suppressed is suppressed)."""
    claims.update(copy.deepcopy(dict(part.get("claimsToAddOrOverride", {}))))
    for name in part.get("claimsToSuppress", ()):
        claims.pop(name, None)


def check_hook(hook: Optional[PreTokenGeneration]) -> Optional[PreTokenGeneration]:
    """``hook`` if it is ``None`` or callable; ``TypeError`` otherwise."""
    if hook is not None and not callable(hook):
        raise TypeError("pre_token_generation must be a callable taking the trigger event")
    return hook


def user_event(
    *,
    user_pool_id: str,
    client_id: str,
    trigger: str,
    username: str,
    attributes: Mapping[str, str],
    groups: Sequence[str],
    scopes: Sequence[str],
) -> Dict[str, Any]:
    """The V2 event of a user's token request (``trigger``: its ``triggerSource``)."""
    event = _event("2", user_pool_id, client_id, trigger, dict(attributes), scopes)
    event["userName"] = username
    event["request"]["groupConfiguration"]["groupsToOverride"] = list(groups)
    return event


def machine_event(*, user_pool_id: str, client_id: str, scopes: Sequence[str]) -> Dict[str, Any]:
    """The V3 event of a client-credentials grant: no user, no attributes, no groups."""
    return _event("3", user_pool_id, client_id, "TokenGeneration_ClientCredentials", {}, scopes)


def _event(
    version: str,
    user_pool_id: str,
    client_id: str,
    trigger: str,
    attributes: Dict[str, str],
    scopes: Sequence[str],
) -> Dict[str, Any]:
    return {
        "version": version,
        "triggerSource": trigger,
        "region": user_pool_id.partition("_")[0],
        "userPoolId": user_pool_id,
        "callerContext": {"awsSdkVersion": "cognito-helper-local", "clientId": client_id},
        "request": {
            "userAttributes": attributes,
            "groupConfiguration": {
                "groupsToOverride": [],
                "iamRolesToOverride": [],
                "preferredRole": None,
            },
            "scopes": list(scopes),
        },
        "response": {"claimsAndScopeOverrideDetails": None},
    }


def run_hook(hook: Optional[PreTokenGeneration], event: Dict[str, Any]) -> Overrides:
    """Call ``hook`` with ``event`` and check its answer; :func:`refused` when it fails."""
    if hook is None:
        return Overrides()
    try:
        answer = hook(event)
    except Exception:  # the trigger failed: so does the token request, as in Cognito
        raise refused("the trigger function raised an exception") from None
    if isinstance(answer, Mapping) and "response" in answer:
        response = answer["response"]
        if isinstance(response, Mapping):
            answer = response.get("claimsAndScopeOverrideDetails")
    if answer is None:
        return Overrides()
    if not isinstance(answer, Mapping):
        raise refused("claimsAndScopeOverrideDetails is not an object")
    return _checked(answer)


def _checked(details: Mapping[str, Any]) -> Overrides:
    unknown = set(details) - {*_TOKEN_PARTS, "groupOverrideDetails"}
    if unknown:
        raise refused(f"unknown field {sorted(unknown)[0]!r} in claimsAndScopeOverrideDetails")
    parts = {name: _part(details, name, fields) for name, fields in _TOKEN_PARTS.items()}
    groups = _part(details, "groupOverrideDetails", _GROUP_PARTS)
    for name in ("groupsToOverride", "iamRolesToOverride"):
        _string_list(groups, name, spaces=True)
    if groups.get("preferredRole") is not None and not isinstance(groups["preferredRole"], str):
        raise refused("preferredRole is not a string")
    for token, part in parts.items():
        _check_claims(part, id_token=token == "idTokenGeneration")
    return Overrides(parts["idTokenGeneration"], parts["accessTokenGeneration"], groups)


def _part(details: Mapping[str, Any], name: str, fields: Sequence[str]) -> Mapping[str, Any]:
    part = details.get(name)
    if part is None:
        return {}
    if not isinstance(part, Mapping):
        raise refused(f"{name} is not an object")
    unknown = set(part) - set(fields)
    if unknown:
        raise refused(f"unknown field {sorted(unknown)[0]!r} in {name}")
    return {key: value for key, value in part.items() if value is not None}


def _string_list(part: Mapping[str, Any], name: str, *, spaces: bool) -> None:
    values = part.get(name, [])
    if not isinstance(values, list) or not all(
        isinstance(v, str) and v and (spaces or " " not in v) for v in values
    ):
        raise refused(f"{name} is not a list of names")


def _check_claims(part: Mapping[str, Any], *, id_token: bool) -> None:
    for name in ("claimsToSuppress", "scopesToAdd", "scopesToSuppress"):
        _string_list(part, name, spaces=name == "claimsToSuppress")
    added = part.get("claimsToAddOrOverride", {})
    if not isinstance(added, Mapping):
        raise refused("claimsToAddOrOverride is not an object")
    for name in (*added, *part.get("claimsToSuppress", ())):
        if name in PROTECTED_CLAIMS or (name in added and name.startswith("cognito:")):
            raise refused(f"the claim {name!r} cannot be changed")
    for name, value in added.items():
        if not isinstance(name, str) or not name:
            raise refused("a claim name is not a string")
        if not _json_value(value):
            raise refused(f"the value of {name!r} is not a JSON value Cognito accepts")
        if id_token and name in _ID_SCALAR_CLAIMS and isinstance(value, (dict, list)):
            raise refused(f"the ID token's {name!r} cannot hold an object or array")


def _json_value(value: Any, *, top: bool = True) -> bool:
    """A string, finite number, boolean, or an array or object of JSON values; ``null`` only
    inside one (a claim whose value is ``null`` is not a claim)."""
    if value is None:
        return not top
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, (str, bool, int)):
        return True
    if isinstance(value, list):
        return all(_json_value(item, top=False) for item in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _json_value(v, top=False) for k, v in value.items())
    return False
