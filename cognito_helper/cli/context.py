"""One run of the ``cognito-helper`` command: its arguments, streams, exit codes and config.

The config is loaded on first use, through the library's own loaders
(:meth:`CognitoConfig.from_env <cognito_helper.config.CognitoConfig.from_env>` and
:class:`~cognito_helper._config_file.ConfigFile`), so the command and the library say the same
about a missing or wrong setting; what the user gave is kept for the hints.
"""

from __future__ import annotations

import argparse
from typing import Any, Mapping, Optional, TextIO

from .. import _env
from .._config_file import ConfigFile
from ..config import ENV_NAMES, CognitoConfig
from ..errors import MalformedTokenError

__all__ = [
    "EXIT_OK",
    "EXIT_REJECTED",
    "EXIT_UNREACHABLE",
    "EXIT_USAGE",
    "EXCHANGE_COMMAND",
    "Context",
    "DemoStepError",
    "RefreshTokenGivenError",
    "UsageError",
]

EXIT_OK, EXIT_REJECTED, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3

# The exchange command that every hint and instruction prints. Written with '=' because a
# PKCE verifier may start with '-', which argparse would read as an option.
EXCHANGE_COMMAND = "cognito-helper exchange 'CODE_OR_REDIRECT_URL' --code-verifier=CODE_VERIFIER"

# What the messages for unset COGNITO_* variables offer instead of setting them.
_OTHERWISE = (
    "pass --config config.py (a copy of config.example.py). No pool yet? `cognito-helper demo "
    "--serve` runs a local one and prints the variables."
)


class UsageError(Exception):
    """The command line is wrong; the message says how to call it instead.

    ``hint`` is what to do; without one, the hint points at the command's ``--help``.
    """

    def __init__(self, message: str, hint: Optional[str] = None) -> None:
        super().__init__(message)
        self.hint = hint


class DemoStepError(Exception):
    """A demo step that did not behave as expected."""


class RefreshTokenGivenError(MalformedTokenError):
    """A refresh token (an encrypted JWE) was given where an ID or access token belongs."""


class Context:
    """One run of the command: its arguments, streams, and the config (loaded on first use)."""

    def __init__(
        self, args: argparse.Namespace, out: TextIO, err: TextIO, stdin: Optional[TextIO]
    ) -> None:
        self.args = args
        self.out = out
        self.err = err
        self.stdin = stdin
        self.loaded: Optional[CognitoConfig] = None
        # The --config file, once read: its cognito_config as written.
        self.file: Optional[ConfigFile] = None
        # The code or refresh token handed to the library, to say what it is when refused.
        self.grant: Optional[str] = None

    @property
    def config_path(self) -> Optional[str]:
        """The ``--config`` file given, if any (``demo`` and ``decode`` have none)."""
        path: Optional[str] = getattr(self.args, "config", None)
        return path

    @property
    def config(self) -> CognitoConfig:
        """The config from ``--config FILE``, else from the ``COGNITO_*`` variables."""
        if self.loaded is None:
            path = self.config_path
            if path is None:
                self.loaded = CognitoConfig.from_env(otherwise=_OTHERWISE)
            else:
                self.file = ConfigFile.read(path, called="--config")
                self.loaded = self.file.config()
        return self.loaded

    def setting(self, key: str) -> str:
        """Where the user sets ``key``: the variable, or the key in their --config file."""
        path = self.config_path
        if path:
            return f"'{key}' in {path}"
        return ENV_NAMES.get(key, "COGNITO_" + key.upper())

    def raw(self, key: str) -> Optional[Any]:
        """The value the user gave ``key`` (None when unset or not known), before any check."""
        if not self.config_path:
            return _env.values().get(key)
        settings = self.file.settings if self.file is not None else None
        if isinstance(settings, Mapping):
            value = settings.get(key)
            return None if value is None or value == "" else value
        return None

    def is_set(self, key: str) -> Optional[bool]:
        """Whether the user set ``key``; None when that cannot be known (a CognitoConfig file)."""
        if self.config_path and not (
            self.file is not None and isinstance(self.file.settings, Mapping)
        ):
            return None
        return self.raw(key) is not None
