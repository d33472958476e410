"""`python -m dsconfig` runs the same entry point as the `dsconfig` console script."""

from dsconfig.entry import main

raise SystemExit(main())
