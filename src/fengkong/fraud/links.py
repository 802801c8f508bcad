"""Which event fields become identity-element nodes of the association graph, and how strongly they link.

One table drives both executions: the online graph (:mod:`fengkong.fraud.graph`) and the
vectorised offline builder (:mod:`fengkong.fraud.offline`), so the two cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Repayment ``dpd`` at or above which a member counts as defaulted.
DEFAULT_DPD = 30


@dataclass(frozen=True)
class LinkField:
    """An event field whose value is an identity element linked to the event's applicant.

    ``cap`` is the hub cap: an element joins the clusters of its first ``cap`` distinct applicants
    and only counts (degree, distinct neighbours) after that, so a shared office IP or a large
    employer never glues unrelated people into one cluster.
    """

    field: str
    kind: str
    cap: int
    event_types: tuple[str, ...]


LINK_FIELDS: tuple[LinkField, ...] = (
    LinkField("id_token", "id", 5, ("customer", "application")),
    LinkField("phone_token", "ph", 20, ("customer", "application")),
    # listed contacts form a social graph that percolates through a whole population: count-only
    LinkField("contact_tokens", "ct", 0, ("application",)),
    LinkField("device_id", "dv", 20, ("customer", "application", "purchase")),
    LinkField("card_token", "cd", 5, ("customer", "application", "disbursement")),
    LinkField("ip", "ip", 0, ("customer", "application")),
    LinkField("employer_id", "em", 0, ("application",)),
    LinkField("agent_id", "ag", 50, ("application",)),
    # money moved out of a borrower's account to a private individual: shared receivers link borrowers
    LinkField("counterparty_id", "cp", 20, ("transfer",)),
)

KINDS: tuple[str, ...] = tuple(dict.fromkeys(lf.kind for lf in LINK_FIELDS))
KIND_CAP: dict[str, int] = {lf.kind: lf.cap for lf in LINK_FIELDS}
KIND_CODE: dict[str, int] = {k: i for i, k in enumerate(KINDS)}
KIND_NAMES: dict[str, str] = {
    "id": "ID token", "ph": "phone", "dv": "device", "cd": "bank card", "ip": "IP address",
    "em": "employer", "ag": "intermediary code", "ct": "listed contact", "cp": "transfer receiver",
}
#: Fields read per event type, in the order the online graph links them.
FIELDS_BY_TYPE: dict[str, tuple[LinkField, ...]] = {}
for _lf in LINK_FIELDS:
    for _et in _lf.event_types:
        FIELDS_BY_TYPE.setdefault(_et, ())
        FIELDS_BY_TYPE[_et] = (*FIELDS_BY_TYPE[_et], _lf)


def transfer_links(event: dict) -> bool:
    """A transfer links its counterparty only when money leaves to a private individual."""
    return event.get("direction") == "out" and event.get("counterparty_type") == "individual"


def app_key(customer_id: str) -> str:
    return "c:" + customer_id


def elem_key(kind: str, value: str) -> str:
    return kind + ":" + value


def with_caps(overrides: dict[str, int] | None) -> dict[str, int]:
    """The hub caps per kind, with overrides checked."""
    caps = dict(KIND_CAP)
    for k, v in (overrides or {}).items():
        if k not in caps:
            raise ValueError(f"hub cap for unknown element kind {k!r}; kinds: {', '.join(KINDS)}")
        if int(v) < 0:
            raise ValueError(f"hub cap for {k!r} must be >= 0, got {v}")
        caps[k] = int(v)
    return caps
