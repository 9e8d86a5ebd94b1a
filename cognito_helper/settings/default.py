"""The process default: the :class:`~cognito_helper.config.CognitoConfig` used when a call's
``config=`` is omitted.

:func:`configure` sets it; :func:`get_config` returns it, or else one read once from the
``COGNITO_*`` environment variables (see :mod:`cognito_helper.settings.env`).
"""

from __future__ import annotations

import threading
from typing import Any, Mapping, Optional, Union, overload

from ..core.errors import ConfigError
from .config import CognitoConfig

__all__ = ["configure", "get_config"]

_default_lock = threading.Lock()
_default: Optional[CognitoConfig] = None
_env_config: Optional[CognitoConfig] = None  # read from the environment once


@overload
def configure(config: Union[CognitoConfig, Mapping[str, Any]]) -> CognitoConfig: ...


@overload
def configure(config: None) -> None: ...


def configure(config: Union[CognitoConfig, Mapping[str, Any], None]) -> Optional[CognitoConfig]:
    """Set the process-wide default config used when a function's ``config=`` is omitted.

    Accepts a :class:`CognitoConfig` or a settings dict (see :meth:`CognitoConfig.from_dict`)
    and returns the config now in force. ``configure(None)`` clears it, and also the config
    read from the ``COGNITO_*`` variables, which are then read again on the next call.
    Safe to call from any thread; calls already running keep the
    config they started with.
    """
    global _default, _env_config
    if config is None:
        new: Optional[CognitoConfig] = None
    elif isinstance(config, CognitoConfig):
        new = config
    else:
        new = CognitoConfig.from_dict(config)
    with _default_lock:
        _default = new
        if new is None:
            _env_config = None
    return new


def get_config(config: Optional[CognitoConfig] = None) -> CognitoConfig:
    """Return ``config`` if given, else the :func:`configure` default, else one from the env.

    The ``COGNITO_*`` variables are read once, on the first call that needs them (reading
    them costs several times a remembered verification); ``configure(None)`` re-reads them.
    Raises :class:`ConfigError` saying how to configure when none of them is available.
    """
    global _env_config
    if config is not None:
        if not isinstance(config, CognitoConfig):
            raise ConfigError(f"config must be a CognitoConfig, got {type(config).__name__}")
        return config
    default = _default
    if default is not None:
        return default
    from_env = _env_config
    if from_env is not None:
        return from_env
    from_env = CognitoConfig.from_env()
    _env_config = from_env
    return from_env
