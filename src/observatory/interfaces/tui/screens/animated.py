"""A screen mix-in that advances an animation frame every 80 ms unless the app is frozen."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.screen import Screen

from observatory.interfaces.tui.art import FRAME_SECONDS

if TYPE_CHECKING:
    from observatory.interfaces.tui.app import ObservatoryApp


class AnimatedScreen(Screen[None]):
    """Calls `draw_frame(frame)` on mount and then every FRAME_SECONDS."""

    frame = 0

    @property
    def observatory(self) -> ObservatoryApp:
        return cast("ObservatoryApp", self.app)

    def on_mount(self) -> None:
        self.draw_frame(0)
        if not self.observatory.frozen:
            self.set_interval(FRAME_SECONDS, self._tick)

    def _tick(self) -> None:
        self.frame += 1
        self.draw_frame(self.frame)

    def draw_frame(self, frame: int) -> None:
        """Redraw what moves; subclasses override."""
