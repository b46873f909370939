"""Detection heads: a network output that checks the values it reads at each position."""

from __future__ import annotations

from cnncalc.core.errors import GeometryError
from cnncalc.core.shapes import Shape

from .base import Outcome, register
from .pointwise import Identity


@register("detection_head")
class Head(Identity):
    """A detection head (Darknet's ``[yolo]``, ``[region]``, ``[detection]``): it passes its
    input on as one of the network's outputs, and reads ``values`` numbers at each position
    (boxes, objectness and class scores per anchor), so an input with another number of
    channels is refused, as Darknet refuses it."""

    kind = "head"
    primary = "values"
    summary = "a detection head: passes on its input, which must have `values` channels"
    values: int | None = None

    def apply(self, x: Shape) -> Outcome:
        if self.values is not None and x.channels is not None and x.channels != self.values:
            where = "features" if not x.spatial else "channels"
            raise GeometryError(
                f"{self.kind}: reads {self.values:,} {where}, but its input has {x.channels:,}"
            )
        return self._identity(x)
