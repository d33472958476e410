"""dsconfig: connect Claude Code, Claude Desktop and your shell to DeepSeek and other Anthropic-compatible APIs."""

__version__ = "0.1.0"
