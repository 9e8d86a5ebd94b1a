"""``python -m cognito_helper`` is the ``cognito-helper`` command."""

import sys

from .cli import main

sys.exit(main())
