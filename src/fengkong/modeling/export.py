"""Deployment exports: a scorecard as a decision-engine ``scorecard`` node (YAML-able dict) and as a SQL
``CASE`` expression for batch scoring in a warehouse (SQLite, DuckDB, PostgreSQL, Hive/Spark SQL)."""

from __future__ import annotations

from typing import Any

import numpy as np

from fengkong.modeling.binning import RARE, FeatureBinning
from fengkong.modeling.scorecard import Scorecard


def _num(v: float) -> float | int:
    v = float(v)
    return int(v) if v.is_integer() and abs(v) < 2**53 else v


def _else_points(sc: Scorecard, c: str) -> float:
    fb = sc.binner_.bins_[c]
    default = fb._default_bin() if fb.kind == "categorical" else -1
    return float(sc.points_[c][default])


def _numeric_categories(fb: FeatureBinning) -> bool:
    """A categorical characteristic whose column held numbers at fit time: its node / SQL values are numbers."""
    return fb.kind == "categorical" and fb.value_kind == "numeric"


def _category_value(fb: FeatureBinning, v: Any) -> Any:
    if _numeric_categories(fb):
        try:
            return _num(float(v))
        except ValueError:
            return str(v)
    return str(v)


def characteristic_bins(sc: Scorecard, c: str) -> list[dict[str, Any]]:
    """The ordered bins of one characteristic in engine-node form (first match wins).

    Categories of a column that was numeric at fit time are emitted as numbers (``in: [1, 4]``), so the node
    type-checks against a numeric engine input and 2 and 2.0 both match; text columns give text values.
    """
    fb: FeatureBinning = sc.binner_.bins_[c]
    pts = sc.points_[c]
    out: list[dict[str, Any]] = [{"missing": True, "points": _num(pts[fb.missing_index])}]
    for s_i, s in enumerate(fb.special_values):
        val = _num(s) if fb.kind == "numeric" else _category_value(fb, s)
        out.append({"in": [val], "points": _num(pts[fb.n_regular + s_i])})
    if fb.kind == "numeric":
        edges = list(fb.splits)
        for i in range(fb.n_regular):
            b: dict[str, Any] = {}
            if i > 0:
                b["ge"] = _num(edges[i - 1])
            if i < len(edges):
                b["lt"] = _num(edges[i])
            b["points"] = _num(pts[i])
            out.append(b if len(b) > 1 else {"else": True, "points": _num(pts[i])})
        if "else" not in out[-1]:
            out.append({"else": True, "points": _num(_else_points(sc, c))})
    else:
        for g_i, g in enumerate(fb.groups):
            cats = [_category_value(fb, v) for v in g if v != RARE]
            if cats:
                out.append({"in": cats, "points": _num(pts[g_i])})
        out.append({"else": True, "points": _num(_else_points(sc, c))})
    return out


def scorecard_node(
    sc: Scorecard, node_id: str = "app_score", output: str = "score", pd_output: str | None = "pd",
    inputs: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The ``type: scorecard`` node the decision engine evaluates; ``inputs`` maps a characteristic to
    an expression over event fields / features (default: the plain column name)."""
    inputs = inputs or {}
    node: dict[str, Any] = {
        "id": node_id,
        "type": "scorecard",
        "output": output,
        "offset": _num(sc.offset_),
        "scaling": {"base_score": _num(sc.base_score), "base_odds": _num(sc.base_odds), "pdo": _num(sc.pdo)},
    }
    if pd_output:
        node["pd_output"] = pd_output
    node["reasons"] = int(sc.reasons)
    node["characteristics"] = [
        {"name": c, "input": inputs.get(c, c), "reason_code": c.upper(), "bins": characteristic_bins(sc, c)}
        for c in sc.features_
    ]
    return node


#: Per SQL dialect: identifier quote, the float type and the text type ("spark": Spark SQL / Hive).
SQL_DIALECTS = {"standard": ('"', "DOUBLE PRECISION", "VARCHAR"), "spark": ("`", "DOUBLE", "STRING")}


def _sql_ident(name: str, dialect: str = "standard") -> str:
    q = SQL_DIALECTS[dialect][0]
    return q + name.replace(q, q + q) + q


def _sql_lit(v: Any, dialect: str = "standard") -> str:
    """A SQL literal; numbers are typed DOUBLE PRECISION everywhere (DuckDB and PostgreSQL would otherwise
    read 12.5 as DECIMAL and sum exactly, which differs from the engine's and Python's float sums)."""
    if isinstance(v, str):
        return "'" + v.replace("'", "''") + "'"
    return f"CAST({float(v)!r} AS {SQL_DIALECTS[dialect][1]})"


def _sql_case(col: str, bins: list[dict[str, Any]], categorical: bool, dialect: str = "standard") -> str:
    """``categorical``: compare the column as text (a text category column); numeric categories compare as numbers."""
    q = _sql_ident(col, dialect)
    parts = []
    for b in bins:
        p = _sql_lit(b["points"], dialect)
        if b.get("missing"):
            parts.append(f"WHEN {q} IS NULL THEN {p}")
        elif "in" in b:
            vals = ", ".join(_sql_lit(v, dialect) for v in b["in"])
            target = f"CAST({q} AS {SQL_DIALECTS[dialect][2]})" if categorical else q
            parts.append(f"WHEN {target} IN ({vals}) THEN {p}")
        elif "else" in b:
            parts.append(f"ELSE {p}")
        else:
            cond = []
            if "ge" in b:
                cond.append(f"{q} >= {_sql_lit(b['ge'], dialect)}")
            if "lt" in b:
                cond.append(f"{q} < {_sql_lit(b['lt'], dialect)}")
            parts.append(f"WHEN {' AND '.join(cond)} THEN {p}")
    return "(CASE " + " ".join(parts) + " END)"


def scorecard_sql_expression(sc: Scorecard, dialect: str = "standard") -> str:
    """``offset + (CASE …) + …``: the total score as one SQL expression over the input columns."""
    terms = [_sql_lit(sc.offset_, dialect)]
    for c in sc.features_:
        fb = sc.binner_.bins_[c]
        text = fb.kind == "categorical" and not _numeric_categories(fb)
        terms.append(_sql_case(c, characteristic_bins(sc, c), text, dialect))
    return "\n  + ".join(terms)


def scorecard_sql(sc: Scorecard, table: str, keep: list[str] | None = None, dialect: str = "standard") -> str:
    """A ``SELECT`` adding ``score`` and ``pd`` columns to ``table`` (keeping ``keep`` columns, default all).

    Missing values must be SQL NULL. ``pd = 1 / (1 + base_odds * 2^((score - base_score) / pdo))``.
    ``dialect``: ``standard`` (SQLite, DuckDB, PostgreSQL) or ``spark`` (Spark SQL, Hive).
    """
    d = dialect
    cols = "t.*" if keep is None else ", ".join(f"t.{_sql_ident(k, d)}" for k in keep)
    expr = scorecard_sql_expression(sc, d)
    return (
        f"SELECT s.*, 1.0 / (1.0 + {_sql_lit(sc.base_odds, d)} * POWER(2.0, (s.score - {_sql_lit(sc.base_score, d)}) "
        f"/ {_sql_lit(sc.pdo, d)})) AS pd\nFROM (\nSELECT {cols},\n  {expr} AS score\nFROM {_sql_ident(table, d)} AS t\n) AS s"
    )


def logistic_node(
    intercept: float, coef: dict[str, float], node_id: str = "model", output: str = "pd",
    inputs: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A ``type: model, format: logistic`` node: pd = 1 / (1 + exp(−(intercept + Σ coef·input)))."""
    return {
        "id": node_id, "type": "model", "format": "logistic", "output": output,
        "intercept": float(intercept), "coef": {k: float(v) for k, v in coef.items()},
        "inputs": {k: (inputs or {}).get(k, k) for k in coef},
    }


def lightgbm_node(
    artifact: str, features: list[str], node_id: str = "gbm", output: str = "pd",
    inputs: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A ``type: model, format: lightgbm`` node; ``artifact`` is the Booster text file relative to the strategy."""
    return {
        "id": node_id, "type": "model", "format": "lightgbm", "artifact": artifact,
        "inputs": {f: (inputs or {}).get(f, f) for f in features}, "output": output,
    }


def total_from_points(offset: float, points: np.ndarray) -> np.ndarray:
    """Left-to-right sum offset + p1 + p2 … (the order SQL and the engine use)."""
    total = np.full(points.shape[0], offset, dtype=np.float64)
    for j in range(points.shape[1]):
        total = total + points[:, j]
    return total
