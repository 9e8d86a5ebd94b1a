"""A config file: a copy of ``config.example.py``, run as Python, that defines ``cognito_config``.

:meth:`CognitoConfig.from_file <cognito_helper.config.CognitoConfig.from_file>` and the
``cognito-helper --config FILE`` option both read one through :class:`ConfigFile`, so both
refuse a wrong file with the same message.
"""

from __future__ import annotations

import runpy
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Union

from ..core.errors import ConfigError
from .config import CognitoConfig

__all__ = ["ConfigFile"]

_WHAT_TO_GIVE = "give the path of your config.py (a copy of config.example.py)"


def _check_path(path: str, called: str) -> None:
    """ConfigError unless ``path`` is a regular file, saying what it is instead."""
    file = Path(path)
    if file.is_dir():
        raise ConfigError(f"{called} {path} is a directory, not a file: {_WHAT_TO_GIVE}")
    if not file.exists():
        raise ConfigError(
            f"{called} {path}: no such file (copy config.example.py to config.py and fill it in)"
        )
    if not file.is_file():
        raise ConfigError(f"{called} {path} is not a regular file: {_WHAT_TO_GIVE}")


@dataclass(frozen=True)
class ConfigFile:
    """A config file that was run: its ``path``, and the ``cognito_config`` it defined.

    ``settings`` is the dict of settings as the file wrote it (before any check), or the
    :class:`CognitoConfig` it built itself.
    """

    path: str
    settings: Union[Mapping[str, Any], CognitoConfig]

    @classmethod
    def read(cls, path: str, *, called: str = "config file") -> ConfigFile:
        """Run the file at ``path`` and keep the ``cognito_config`` it leaves behind.

        The file is run as Python (it is the user's own code, like any settings module).
        Raises :class:`ConfigError` for a path that is not a file (the message calls the path
        ``called``: the CLI says ``--config``), a file that fails to run, and one that
        defines no ``cognito_config`` dict or :class:`CognitoConfig`.
        """
        _check_path(path, called)
        try:
            namespace = runpy.run_path(path, run_name="cognito_helper_config")
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc}") from None
        except Exception as exc:
            raise ConfigError(f"{path} failed to run: {type(exc).__name__}: {exc}") from None
        if "cognito_config" not in namespace:
            raise ConfigError(
                f"{path} defines no 'cognito_config': define cognito_config = {{...}} with "
                "user_pool_id, client_id, domain and redirect_uri, as config.example.py does"
            )
        settings = namespace["cognito_config"]
        if isinstance(settings, (CognitoConfig, Mapping)):
            return cls(path, settings)
        found = "None" if settings is None else f"a {type(settings).__name__}"
        raise ConfigError(
            f"{path}: cognito_config is {found}, expected a dict of settings (user_pool_id, "
            "client_id, domain, redirect_uri, ...) as in config.example.py, or a CognitoConfig"
        )

    def config(self) -> CognitoConfig:
        """The config the file's settings describe; a :class:`ConfigError` names the file."""
        if isinstance(self.settings, CognitoConfig):
            return self.settings
        try:
            return CognitoConfig.from_dict(self.settings)
        except ConfigError as exc:
            raise ConfigError(f"{self.path}: {exc}") from None
