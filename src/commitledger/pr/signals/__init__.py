"""What a change delivered: one module per signal (tests, maintainability, reverts, ...)."""
