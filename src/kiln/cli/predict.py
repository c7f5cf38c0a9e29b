"""``kiln predict``: batch inference over a Parquet file, streamed in chunks."""

from __future__ import annotations

import click


@click.command("predict")
@click.argument("model_uri")
@click.option("--input", "-i", "input_path", required=True, help="Parquet file to score.")
@click.option("--output", "-o", "output_path", required=True, help="Parquet file to write.")
@click.option("--chunk-size", type=int, default=250_000, show_default=True,
              help="Rows read, scored and written at a time (bounds memory).")
def predict(model_uri: str, input_path: str, output_path: str, chunk_size: int) -> None:
    """Score INPUT with MODEL_URI (churn-clf@production, churn-clf/3 or models:/...)."""
    from kiln.cli._ws import workspace

    res = workspace().batch_predict(model_uri, input_path, output_path, chunk_size=chunk_size,
                                    progress=True)
    click.echo(f"scored {res.rows} rows with {res.model} version {res.version} "
               f"in {res.seconds:.2f} s -> {res.output}")
