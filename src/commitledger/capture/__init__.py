"""Agent-log readers: one module per agent format, behind ``capture.base``."""
