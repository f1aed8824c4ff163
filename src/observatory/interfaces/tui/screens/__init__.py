"""The TUI's screens: splash, launcher, setup progress, dashboard, and their dialogs."""
