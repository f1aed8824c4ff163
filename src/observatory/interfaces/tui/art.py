"""The logo, the Braille spinner and the loading messages, with their frame arithmetic.

Animations advance one frame every FRAME_SECONDS; each function maps a frame number to
what is drawn, so a frozen app (frame 0) always draws the same picture.
"""

from __future__ import annotations

FRAME_SECONDS = 0.08

LOGO = (
    r"            _____",
    r"         .-'  |  '-.",
    r"       .'     |     '.",
    r"      /   .---+---.   \ ",
    r"     |   /    |    \   |",
    r"     |--+-----o-----+--|",
    r"     |   \    |    /   |",
    r"      \   '---+---'   /",
    r"       '.     |     .'",
    r"         '-.__|__.-'",
)
"""An observatory's eye: ten lines, at most 25 columns."""

TITLE = "Distributed Task Observatory"
SPINNER_FRAMES = ("⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏")
LOADING_MESSAGES = (
    "Connecting to the read model",
    "Fetching statistics",
    "Loading recent jobs",
    "Checking alerts",
)
FRAMES_PER_MESSAGE = 15
"""A message stays 1.2 s: long enough to read, short enough to show progress."""
FRAMES_PER_DOT = 4


def logo_block() -> str:
    """The logo as one block with every line equally wide, so it can be centred."""
    width = max(len(line) for line in LOGO)
    return "\n".join(line.ljust(width) for line in LOGO)


def spinner(frame: int) -> str:
    """The spinner glyph for `frame`."""
    return SPINNER_FRAMES[frame % len(SPINNER_FRAMES)]


def loading_message(frame: int) -> str:
    """The loading message shown at `frame`."""
    return LOADING_MESSAGES[(frame // FRAMES_PER_MESSAGE) % len(LOADING_MESSAGES)]


def dots(frame: int) -> str:
    """One to four dots, growing every FRAMES_PER_DOT frames."""
    return "." * ((frame // FRAMES_PER_DOT) % 4 + 1)
