"""Collaborative learning and the leakage of its updates (Melis et al. 2019).

``simulate``: synchronised SGD and federated averaging with K participants, the adversary's
observed update (Section II-B, Algorithms 1 and 2; Section IV-B). ``partition``: the task
and property labels and the participants' data. ``features``: the batch-property
classifier's features from an update. ``property_inference``: the passive attack
(Section IV-D, Algorithm 3).
"""
