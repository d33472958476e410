"""The reliability suite: a package, so pytest imports its modules as `reliability.*` (tests/ is the root on
sys.path) and its conftest.py never collides with tests/conftest.py; the modules import their shared pieces
relatively (`from .reliability_support import ...`)."""
