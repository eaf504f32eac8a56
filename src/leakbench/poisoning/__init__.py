"""Poisoning: records an adversary adds to a victim's training data.

Reusable by every study that lets the adversary contribute data (property inference here;
collaborative learning and DP variants later). A poison set is a list of pool rows whose
features the adversary copies, each given the label the adversary chose.
"""

from leakbench.poisoning.label_flip import PoisonSet, make_poison, poison_count

__all__ = ["PoisonSet", "make_poison", "poison_count"]
