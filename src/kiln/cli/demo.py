"""``kiln demo``: the whole lifecycle on embedded defaults."""

from __future__ import annotations

import click

from kiln.cli._ws import workspace


@click.command()
def demo() -> None:
    """Sweep, track, register, promote, load and predict on a real dataset (no network)."""
    from rich.console import Console
    from rich.panel import Panel

    from kiln.demo import EXPERIMENT, MODEL_NAME, run_demo

    console = Console()
    ws = workspace()
    console.print(Panel.fit(f"kiln demo  —  workspace {ws.settings.home}", style="bold"))
    result = run_demo(ws, console)
    mv = result.model_version
    assert mv is not None
    console.print(
        Panel(
            "\n".join([
                f"[bold]runs[/]: {len(result.run_ids)}   [bold]best auc[/]: "
                f"{result.best_auc:.4f}   [bold]production[/]: {MODEL_NAME} v{mv.version}",
                "",
                "Explore what the demo made:",
                f'  kiln runs list -e {EXPERIMENT} --order-by "metrics.auc DESC"',
                f"  kiln runs show {result.best_run_id}",
                f"  kiln runs compare {result.run_ids[0]} {result.run_ids[-1]}",
                f"  kiln models show {MODEL_NAME}",
                f"  kiln models show models:/{MODEL_NAME}@production",
                f"  kiln artifacts get {result.best_run_id} report.html -o ./out",
                "  kiln features get patient_measurements:mean_radius -e patient_id=0",
                "  kiln deploy show breast-cancer",
                f"  kiln audit log --object {MODEL_NAME}   |   kiln audit verify",
                f"  kiln models card {MODEL_NAME} {mv.version} -o ./out",
                "  kiln monitor show breast-cancer-drift   |   kiln alert chain 1",
                "  kiln ui    (then open http://127.0.0.1:5000 to browse it all)",
            ]),
            title="done",
        )
    )
