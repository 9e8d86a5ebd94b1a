"""Configuration, one job a module: the CognitoConfig value object (``config``), the rule for
each of its fields (``fields``, ``urls``), reading it from the environment (``env``) or a file
(``file``), the hosted-UI URLs built from it (``hosted_ui``, ``pkce``) and the process default
(``default``).

Imports only the core.
"""
