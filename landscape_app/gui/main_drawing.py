"""How the main window draws: a frame timer that shows whatever steps arrived, within a CPU budget, handing the
scene controller what it follows (the plane model's slice, the mini-batch surface). A mixin of ``MainWindow``."""
from __future__ import annotations

import os
import time

from .playback import PLAYING

# For benchmarks/bench_first_motion.py: printed once, when the paths first move on screen (a path of two points
# or more drawn on the plane the race is watched on), with the startup mark's variable set.
MOTION_MARK_ENV = "LANDSCAPE_APP_STARTUP_MARK"
MOTION_MARK = "landscape-app: first motion"

# At full speed the GUI thread may use this share of the time. Training in this process (a thread), every Python
# moment it spends drawing holds the GIL the training needs (see benchmarks/bench_worker.py); training in a
# process of its own, only the machine's cores are shared. Paced runs and single steps draw every frame.
GUI_SHARE = 0.04
GUI_SHARE_APART = 0.2
MAX_FRAME_GAP_S = 0.5         # ...but the screen never waits longer than this between frames
FRAME_MS = 16                 # the frame timer's tick: at most ~60 frames a second


class WindowDrawing:
    """Needs MainWindow's controller (playback, scene) and widgets."""

    def _frame(self) -> None:
        """The frame timer: draw what arrived, keeping the GUI's CPU share small while training flat out.

        The cost of a frame is the GUI thread's CPU time since the previous frame began (drawing, painting and
        receiving batches alike), so the next frame waits until that cost is at most ``GUI_SHARE`` of the time.
        """
        if not (self.playback.dirty or self._scrub_dirty):
            return
        now = time.perf_counter()
        if self.playback.state == PLAYING and self.playback.speed is None:
            used = time.thread_time() - self._frame_cpu
            share = GUI_SHARE_APART if self.playback.trains_apart else GUI_SHARE
            wait = self._frame_wall + min(used / share, MAX_FRAME_GAP_S) - now
            if wait > 0:
                # Sleep until then: each tick wakes the GUI thread, which takes the GIL from the training.
                self.timer.setInterval(max(FRAME_MS, int(wait * 1000)))
                return
        self.timer.setInterval(FRAME_MS)
        self._frame_wall, self._frame_cpu = now, time.thread_time()
        self.redraw()

    def _frames_soon(self, *args) -> None:
        """Back to the normal tick (after waiting out the budget at full speed): something needs showing."""
        if self.timer.interval() != FRAME_MS:
            self.timer.setInterval(FRAME_MS)

    def redraw(self) -> None:
        """Draw what arrived since the last frame (the timer calls this at most ~60 times a second)."""
        if not (self.playback.dirty or self._scrub_dirty):
            return
        self.playback.dirty = self._scrub_dirty = False
        paths = self.playback.paths()
        if not paths:
            return
        longest = max(paths.values(), key=len)
        self.transport.set_length(len(longest), longest.iteration)
        if self.controller.fitting.training_ahead:
            # The runs train ahead for the plane of their paths: nothing is drawn until it is fitted (a path on the
            # plane meanwhile would sit on the start while its loss fell); the line above the views says so.
            planned = max(e.epochs * e.steps_per_epoch for e in self.session.runs)
            rate = self.playback.steps_per_second
            done = int(longest.iteration[-1]) if len(longest) else 0
            self.status.show_progress_text(f"training ahead: iteration {done} of {planned}"
                                           + (f"  ·  {rate:,.0f} steps/s" if rate > 0 else ""))
            return
        upto = self.transport.upto
        selected = paths.get(self.run_ids[self.row])
        scene = self.scene
        # The scene's jobs (the plane's slice, the mini-batch surface, lifted losses) run off this thread; one
        # that must wait its turn brings the next frame back for it.
        if not scene.follow(selected, upto):
            self.playback.dirty = True
        if not scene.update_minibatch(selected, upto):
            self.playback.dirty = True
        if selected is not None and not scene.update_predictions(self.run_ids[self.row], selected, upto):
            self.playback.dirty = True
        lifted = scene.lifted_paths(paths, batch_loss=not self.views.own_losses)
        projected = scene.projected_paths(paths) if self.experiment.is_module else None
        beside = scene.beside_paths(paths) if self.experiment.is_module else None
        self.views.show_paths(paths, lifted, upto, projected, beside)
        if not self._moved:
            # Motion is a path of two points or more on screen: for a network, its projection (computed off this
            # thread) as far as the timeline shows.
            drawn = [len(p.flat) for p in projected.values()] if projected is not None else \
                [len(p) for p in paths.values()]
            shown = max(drawn, default=0) if upto is None else min(upto, max(drawn, default=0))
            if shown >= 2:
                self._moved = True
                if os.environ.get(MOTION_MARK_ENV):
                    print(MOTION_MARK, flush=True)
        index = (len(selected) if upto is None else min(upto, len(selected))) - 1 if selected is not None else 0
        rate = self.playback.steps_per_second if self.playback.state == PLAYING else 0.0
        self.status.show_position(selected, index, rate, self.experiment.criterion)
