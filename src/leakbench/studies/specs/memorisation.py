"""Spec of the Song et al. study: encodings of the training images in a model's parameters
(LSB, correlated value, sign) or its answers (capacity abuse), the low-bit countermeasure
and the parameter-distribution check (rules: ``memorisation.smk``).

The DP axis does not apply: the malicious terms are the trainer's own code, added to the
gradient after DP-SGD's clipping and noise (they depend on no sampled record), and LSB
encoding happens after training; DP-SGD bounds neither (measuring what its clipping and
noise do to the encodings' accuracy cost is left to a later slice of issue 15).
"""

from __future__ import annotations

from leakbench.studies.spec import StudySpec, figure, metrics, table

SPEC = StudySpec(
    name="memorisation",
    description="Malicious training that hides the training images in the model",
    reference="Song et al. 2017 (Machine Learning Models that Remember Too Much), sections "
    "4.1-4.3, 5 and 7, Tables 2-5, Figs. 3 and 6",
    schema="memorisation.schema.yaml",
    rules="memorisation.smk",
    category="Malicious training that memorises",
    outputs=(
        table("csv", "results/tables/memorisation.csv", report=True),
        table("md", "results/tables/memorisation.md"),
        metrics("summary", "results/metrics/memorisation.json"),
        figure("png", "results/figures/memorisation_images.png", caption="memorisation_images.rst"),
        figure("pdf", "results/figures/memorisation_images.pdf"),
        figure(
            "parameters_png",
            "results/figures/memorisation_parameters.png",
            caption="memorisation_parameters.rst",
        ),
        figure("parameters_pdf", "results/figures/memorisation_parameters.pdf"),
    ),
    experiment="leakbench-memorisation",
    artifacts=("results/models/memorisation", "results/attacks/memorisation"),
    required=True,
)
