"""One run of the ``cognito-helper`` command: its arguments, streams, exit codes and config.

The config is loaded on first use, through the library's own loaders
(:meth:`CognitoConfig.from_env <cognito_helper.config.CognitoConfig.from_env>` and
:class:`~cognito_helper.settings.file.ConfigFile`), so the command and the library say the same
about a missing or wrong setting; what the user gave is kept for the hints.
"""

from __future__ import annotations

import argparse
from typing import Any, List, Mapping, Optional, TextIO, Tuple

from ..core.errors import ConfigError, MalformedTokenError
from ..settings import env as _env
from ..settings.config import CognitoConfig
from ..settings.env import ENV_NAMES
from ..settings.file import ConfigFile

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
        # The one config of a command that acts as one app client (or verify's only one).
        self.loaded: Optional[CognitoConfig] = None
        # verify's configs, once loaded: one for each --config file or COGNITO_CLIENT_ID id.
        self.trusted: Optional[Tuple[CognitoConfig, ...]] = None
        # The --config file being read, while it is (so a hint names that one), else None.
        self.reading: Optional[str] = None
        # The --config file, once read: its cognito_config as written.
        self.file: Optional[ConfigFile] = None
        # The code or refresh token handed to the library, to say what it is when refused.
        self.grant: Optional[str] = None
        # The JWT handed to the library by verify, to find the config it was checked against.
        self.token: Optional[str] = None

    @property
    def config_paths(self) -> List[str]:
        """Every ``--config`` file given, before the command, then after it, each once."""
        before = getattr(self.args, "config", None) or []
        after = getattr(self.args, "config_after", None) or []
        return list(dict.fromkeys([*before, *after]))

    @property
    def config_path(self) -> Optional[str]:
        """The ``--config`` file in question (``demo`` and ``decode`` have none).

        The one being read, while it is; else the last one given (the one a command that acts
        as one app client reads: given several times, the last one wins).
        """
        if self.reading is not None:
            return self.reading
        paths = self.config_paths
        return paths[-1] if paths else None

    @property
    def several_files(self) -> bool:
        """Whether verify trusts several --config files (so a hint cannot name just one)."""
        return self.reading is None and self.trusted is not None and len(self.config_paths) > 1

    @property
    def config(self) -> CognitoConfig:
        """The config from ``--config FILE``, else from the ``COGNITO_*`` variables.

        For the commands that act as one app client: several ids in ``COGNITO_CLIENT_ID``
        are a :class:`UsageError`.
        """
        if self.loaded is None:
            path = self.config_path
            if path is None:
                self._refuse_several_clients()
                self.loaded = CognitoConfig.from_env(otherwise=_OTHERWISE)
            else:
                self.loaded = self._read(path)
        return self.loaded

    @property
    def configs(self) -> Tuple[CognitoConfig, ...]:
        """verify's configs: one for each ``--config`` file, else one for each app client id
        in ``COGNITO_CLIENT_ID`` (separated by spaces; the other variables are shared)."""
        if self.trusted is None:
            paths = self.config_paths
            if paths:
                loaded = tuple(self._read(path) for path in paths)
            else:
                loaded = self._from_env_per_client()
            if len(loaded) == 1:
                self.loaded = loaded[0]
            self.trusted = loaded
        return self.trusted

    def _read(self, path: str) -> CognitoConfig:
        """The config of the --config file ``path``; while it is read, hints name it."""
        self.reading, self.file = path, None
        self.file = ConfigFile.read(path, called="--config")
        config = self.file.config()
        self.reading = None
        return config

    def _client_ids(self) -> List[str]:
        """The app client ids ``COGNITO_CLIENT_ID`` lists (separated by spaces), as written."""
        return _env.values().get("client_id", "").split()

    def _refuse_several_clients(self) -> None:
        """A :class:`UsageError` when ``COGNITO_CLIENT_ID`` lists several app clients."""
        ids = self._client_ids()
        if len(ids) > 1:
            variable, command = ENV_NAMES["client_id"], self.args.command
            raise UsageError(
                f"{variable} lists {len(ids)} app clients ({' '.join(ids)}), and "
                f"`cognito-helper {command}` acts as one app client",
                hint=f"set {variable} to the one app client's id for {command}; only "
                "`cognito-helper verify` accepts several ids, separated by spaces",
            )

    def _from_env_per_client(self) -> Tuple[CognitoConfig, ...]:
        """One config for each id in ``COGNITO_CLIENT_ID``; one id reads as ``from_env``."""
        ids = self._client_ids()
        if len(ids) <= 1:
            return (CognitoConfig.from_env(otherwise=_OTHERWISE),)
        kwargs = _env.settings(otherwise=_OTHERWISE)
        configs = []
        for client_id in dict.fromkeys(ids):
            try:
                configs.append(CognitoConfig(**{**kwargs, "client_id": client_id}))
            except ConfigError as exc:
                raise _env.naming_the_variable(exc) from None
        return tuple(configs)

    def setting(self, key: str) -> str:
        """Where the user sets ``key``: the variable, or the key in their --config file(s)."""
        if self.several_files:
            return f"'{key}' in the --config files"
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
