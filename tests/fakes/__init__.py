"""Test doubles: a fake DeepSeek Anthropic endpoint and helpers to drive the real Claude Code CLI."""
