"""Feature engine: declarations (Python/YAML) executed offline (Polars backfill) and online (state stores).

Public entry points: :class:`FeatureSet`, :func:`load_features`; ``offline.backfill``;
``online.OnlineFeatures``; ``stores.MemoryStore / SQLiteStore / RedisStore``.
"""

from fengkong.features.expr import FeatureSpecError
from fengkong.features.spec import Feature, FeatureSet, cross, derived, feature, from_dicts, load_features

__all__ = ["Feature", "FeatureSet", "FeatureSpecError", "cross", "derived", "feature", "from_dicts",
           "load_features"]
