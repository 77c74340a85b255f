"""gain.png draws every sensitive group, saying why the first one is first (issue 15, "Also":
it drew one group and did not say why)."""

from __future__ import annotations

import struct
from pathlib import Path

from synthaug.recipes.report import GainReport
from synthaug.recipes.report_plot import MAX_GROUP_PANELS


def report(groups: list[str], focus: str | None = None) -> GainReport:
    runs = []
    for seed in range(3):
        for arm, kind, ratio, shift in (("real", "real", None, 0.0),
                                        ("synthetic-x1", "augmented", 1.0, 0.01)):
            metrics = {"macro_f1": 0.8 + shift}
            metrics.update({f"macro_f1@{g}": 0.6 + 0.05 * i + shift
                            for i, g in enumerate(groups)})
            runs.append({"arm": arm, "kind": kind, "ratio": ratio, "seed": seed,
                         "metrics": metrics})
    info = {"focus_group": focus} if focus else {}
    return GainReport.from_runs("demo", runs, metric="macro_f1", seeds=[0, 1, 2], info=info)


def png_width(path: Path) -> int:
    return struct.unpack(">I", path.read_bytes()[16:20])[0]


def test_every_group_gets_a_panel_and_the_first_says_why(tmp_path: Path) -> None:
    panels, note = report(["Female", "Male"], focus="Female").panels()
    assert [key for key, _ in panels] == ["macro_f1", "macro_f1@Female", "macro_f1@Male"]
    assert panels[1][1] == "macro-F1 on Female (the scenario's group)"
    assert note == ""
    single = report([]).plot(tmp_path / "one.png")
    both = report(["Female", "Male"], focus="Female").plot(tmp_path / "three.png")
    assert png_width(both) == 3 * png_width(single)  # three panels were drawn, not two


def test_without_a_scenario_group_the_worst_group_comes_first() -> None:
    panels, _ = report(["a", "b", "c"]).panels()
    assert panels[1] == ("macro_f1@a", "macro-F1 on a (real-only does worst here)")


def test_groups_beyond_the_panels_are_named_in_a_note(tmp_path: Path) -> None:
    groups = [f"g{i}" for i in range(MAX_GROUP_PANELS + 3)]
    panels, note = report(groups).panels()
    assert len(panels) == 1 + MAX_GROUP_PANELS
    assert note.startswith("3 more group(s) not drawn (g4, g5, g6)")
    assert "report.md" in note
    assert report(groups).plot(tmp_path / "g.png").is_file()
