"""Geometry for the dashboard's charts, drawn as inline SVG by the templates: no chart library, no CDN."""

from dataclasses import dataclass

BAR_ROW_HEIGHT = 26
BAR_HEIGHT = 18
LABEL_WIDTH = 120
BAR_AREA_WIDTH = 150
SPARK_WIDTH = 240
SPARK_HEIGHT = 36


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    y: int
    text_y: int
    width: int
    value_x: int


@dataclass(frozen=True)
class BarChart:
    bars: list[Bar]
    width: int
    height: int
    label_width: int
    total: int


def bar_chart(items: list[tuple[str, int]]) -> BarChart:
    """A horizontal bar per (label, value); bars scale to the largest value (an empty chart has no bars)."""
    largest = max((value for _, value in items), default=0) or 1
    bars = []
    for index, (label, value) in enumerate(items):
        y = index * BAR_ROW_HEIGHT
        width = round(BAR_AREA_WIDTH * value / largest) if value else 0
        bars.append(
            Bar(
                label=label,
                value=value,
                y=y + (BAR_ROW_HEIGHT - BAR_HEIGHT) // 2,
                text_y=y + BAR_ROW_HEIGHT // 2 + 5,
                width=width,
                value_x=LABEL_WIDTH + width + 6,
            )
        )
    return BarChart(
        bars=bars,
        width=LABEL_WIDTH + BAR_AREA_WIDTH + 40,
        height=max(len(items), 1) * BAR_ROW_HEIGHT,
        label_width=LABEL_WIDTH,
        total=sum(value for _, value in items),
    )


def sparkline_points(values: list[int]) -> str:
    """SVG polyline points for a series of daily counts, scaled to the sparkline box (the top is the peak)."""
    if not values:
        return ""
    peak = max(values) or 1
    step = SPARK_WIDTH / max(len(values) - 1, 1)
    return " ".join(
        f"{round(index * step, 1)},{round(SPARK_HEIGHT - 2 - (SPARK_HEIGHT - 4) * value / peak, 1)}"
        for index, value in enumerate(values)
    )
