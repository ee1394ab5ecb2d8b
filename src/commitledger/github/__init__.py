"""GitHub: the REST client, the sticky-comment logic and the Action's entry point."""
