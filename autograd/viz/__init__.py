"""Drawing computation graphs, and the forward and backward pass step by step.

``draw_dot(root)`` returns a :class:`graphviz.Digraph`: one record node per Value (label, data,
grad) and one small node per operation between its inputs and its output.  ``forward_frames`` and
``backward_frames`` return one such drawing per step of the engine's own order, coloured as in the
lectures (green: value known, red: gradient known), and ``player(frames)`` turns them into a
self-contained HTML page with previous / next / play buttons and a slider.  Every number in them
is printed by ``number_text``: significant digits, so a tiny gradient never shows as 0.

graphviz is imported inside the functions that need it: ``import autograd`` stays standard-library
only, and DOT source can be produced even where the ``dot`` executable is missing.
"""

from .dot import INSTALL_HELP, GraphvizNotInstalledError, draw_dot
from .frames import backward_frames, forward_frames
from .numbers import number_text
from .player import Player, player

__all__ = [
    "draw_dot", "forward_frames", "backward_frames", "player", "Player", "GraphvizNotInstalledError", "INSTALL_HELP",
    "number_text",
]
