"""`python -m observatory.core.contracts.compat`: see `cli`."""

from observatory.core.contracts.compat.cli import main

raise SystemExit(main())
