"""Credit risk modeling: optimal binning, WOE/IV, feature selection, scorecards, LightGBM, metrics,
reports and deployment exports (decision-engine nodes and SQL)."""

from fengkong.modeling.binner import Binner
from fengkong.modeling.binning import FeatureBinning
from fengkong.modeling.scorecard import Scorecard

__all__ = ["Binner", "FeatureBinning", "Scorecard"]
