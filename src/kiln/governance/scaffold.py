"""``kiln init``: a new project with settings, a training script, a feature module, a
policy and CI files."""

from __future__ import annotations

from pathlib import Path

from kiln.exceptions import ConflictError

KILN_YAML = """\
# kiln settings (KILN_* environment variables win over these)
home: .kiln
"""

TRAIN_PY = '''\
"""Train {model}, log it to kiln and write the holdout set the policy evaluates on.

Run: python train.py   (then: kiln ci check)
"""

from pathlib import Path

from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import kiln

MODEL = "{model}"


def main(C: float = 1.0) -> None:
    data = load_breast_cancer(as_frame=True)
    X_train, X_test, y_train, y_test = train_test_split(
        data.data, data.target, test_size=0.25, random_state=0, stratify=data.target
    )
    Path("data").mkdir(exist_ok=True)
    X_test.assign(target=y_test).to_csv("data/holdout.csv", index=False)
    write_feature_source(data.data)
    # The training data as a dataset version, validated against the previous version (the
    # policy's data_validation check reads the stored report through lineage).
    X_train.assign(target=y_train).to_csv("data/train.csv", index=False)
    train = kiln.data.add("data/train.csv", name=f"{{MODEL}}-train")
    versions = kiln.data.versions(train.name)
    previous = versions[-2] if len(versions) > 1 else train
    report = kiln.data.validate(train.ref, reference=previous.ref)
    print(f"validation of {{train.ref}}: {{len(report.errors)}} errors")
    with kiln.start_run(experiment=MODEL, tags={{"intended_use": "Example classifier; replace "
                                                 "with what your model is for."}}):
        kiln.log_input(train)
        kiln.log_params({{"C": C}})
        model = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=5000))
        model.fit(X_train, y_train)
        kiln.log_metric("train_accuracy", float(model.score(X_train, y_train)))
        kiln.log_model(model, name=MODEL, input_example=X_train.head(5))


def write_feature_source(frame):
    """The source of features.py's view: one row per patient, with an event time."""
    import pandas as pd

    stats = frame[["mean radius", "mean area"]].rename(
        columns={{"mean radius": "mean_radius", "mean area": "mean_area"}})
    stats.insert(0, "patient_id", range(len(stats)))
    stats["event_timestamp"] = pd.Timestamp("2026-01-01", tz="UTC")
    stats.to_parquet("data/patient_stats.parquet", index=False)


if __name__ == "__main__":
    main()
'''

FEATURES_PY = '''\
"""Features of {model}'s patients, served online for prediction requests.

    kiln features apply features.py     # register (prints what changed)
    kiln features materialize           # push the latest values to the online store
    kiln features get tumour_size:mean_radius --entity patient_id=3
"""

from kiln.features import Entity, Feature, FeatureView, ParquetSource

patient = Entity("patient", join_keys=["patient_id"])

tumour_size = FeatureView(
    "tumour_size",
    entities=[patient],
    source=ParquetSource("data/patient_stats.parquet"),  # written by train.py
    features=[Feature("mean_radius", "float64"), Feature("mean_area", "float64")],
)
'''

POLICY_YAML = """\
# What a version of {model} must pass before `production` may point at it.
# Run `kiln ci check` (CI) or `kiln models promote {model} VERSION --to production`.
model: {model}
aliases: [production]
datasets:
  holdout: {{path: data/holdout.csv, label: target}}
checks:
  - {{type: metric, metric: roc_auc, dataset: holdout, min: 0.9, max_regression: 0.005}}
  - {{type: metric, metric: accuracy, dataset: holdout, min: 0.85}}
  - {{type: explainability, dataset: holdout}}
  - {{type: latency, p99_ms: 1000}}
  - {{type: signature}}
  - {{type: data_validation}}          # the training data's validation report: no errors
  # - {{type: fairness, attribute: gender, dataset: holdout,
  #    demographic_parity_difference: 0.1, equalized_odds_difference: 0.1}}
  # - {{type: approval, role: risk-officer}}   # kiln models approve {model} N --as risk-officer
"""

GITHUB = """\
name: kiln
on:
  pull_request:
  push:
    branches: [main]
jobs:
  kiln:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with: {python-version: "3.11"}
      - run: pip install "kiln[sklearn,data,features]"
      - run: python train.py
      - run: kiln features apply features.py
      - run: kiln ci check
      - if: github.event_name == 'push' && github.ref == 'refs/heads/main'
        run: kiln ci promote
"""

GITLAB = """\
kiln-check:
  image: python:3.11
  script:
    - pip install "kiln[sklearn,data,features]"
    - python train.py
    - kiln features apply features.py
    - kiln ci check
kiln-promote:
  image: python:3.11
  rules:
    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH
  script:
    - pip install "kiln[sklearn,data,features]"
    - python train.py
    - kiln ci promote
"""

GITIGNORE = ".kiln/\ndata/\n"


def scaffold(target: Path, model: str = "my-model", *, overwrite: bool = False) -> list[Path]:
    """Write the project files into ``target``; refuse to overwrite unless asked."""
    from kiln.registry.uri import check_name

    check_name(model)
    files = {
        "kiln.yaml": KILN_YAML,
        "train.py": TRAIN_PY.format(model=model),
        "features.py": FEATURES_PY.format(model=model),
        f"policies/{model}.yaml": POLICY_YAML.format(model=model),
        ".github/workflows/kiln.yml": GITHUB,
        ".gitlab-ci.yml": GITLAB,
        ".gitignore": GITIGNORE,
    }
    existing = [name for name in files if (target / name).exists()]
    if existing and not overwrite:
        raise ConflictError(f"{target / existing[0]} exists; use --force to overwrite "
                            f"({len(existing)} file(s) in the way)")
    written = []
    for name, text in files.items():
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(path)
    return written
