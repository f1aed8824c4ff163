"""Browser tests (a package so their Playwright fixtures can be package-scoped)."""
