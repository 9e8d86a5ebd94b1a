"""``python -m cognito_helper.cli`` is the ``cognito-helper`` command too."""

import sys

from . import main

sys.exit(main())
