"""The parameters of a synthetic credit world (:class:`SimConfig`) and their validation."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

from fengkong.errors import InputError


class SimConfigError(InputError, ValueError):
    """A simulation parameter is out of range; the message names the parameter."""

    def __init__(self, param: str, reason: str):
        self.param = param
        self.reason = reason
        super().__init__(f"parameter '{param}': {reason}")


@dataclass(frozen=True)
class SimConfig:
    """Size and pattern parameters of a synthetic world. Same config + same PII key ⇒ same bytes.

    Rates and shares are fractions (0.02 = 2 %). Every planted pattern has a guaranteed
    minimum count, so even a 2 000-customer world contains each of them.
    """

    # ---- size
    customers: int = 10_000
    months: int = 3
    start: dt.date = dt.date(2026, 1, 1)  # first day of the world, Asia/Shanghai
    seed: int = 7
    # ---- ordinary business
    cash_loan_share: float = 0.3  # share of applications for a cash loan (rest: credit line)
    repeat_application_share: float = 0.15  # customers who apply a second time
    purchases_per_month: float = 16.0  # mean credit-line purchases per active month
    base_bad_rate: float = 0.05  # mean default probability of an ordinary application
    late_payment_share: float = 0.12  # ordinary installments paid after the due date
    # ---- identity theft (冒名贷款)
    theft_rate: float = 0.004  # identity-theft applications per customer
    attacker_apps_max: int = 6  # each attacker files 1..this many applications
    attacker_device_reuse: bool = True  # attackers reuse their 1–3 devices across victims
    deepfake_pass_share: float = 0.3  # theft applications whose liveness/face scores look normal
    theft_victim_existing_share: float = 0.4  # victims who are already customers
    # ---- debt-bearing rings (职业背债 / 包装贷)
    ring_member_share: float = 0.02  # share of customers recruited into rings
    ring_size_min: int = 5
    ring_size_max: int = 30
    ring_burst_days: int = 5  # members' first applications fall within this many days
    ring_apps_min: int = 2  # applications per member
    ring_apps_max: int = 3
    ring_gap_days_min: int = 2  # days between a member's applications
    ring_gap_days_max: int = 8
    ring_forged_share: float = 0.6  # ring applications whose statement shows edit traces
    ring_agent_code_share: float = 0.5  # rings whose applications carry the agent's referral code
    ring_device_share: float = 0.6  # ring applications submitted from the agent's devices
    # ---- multi-head lending (多头借贷) and loan-to-repay-loan
    multi_head_share: float = 0.03
    loan_to_repay_share: float = 0.5  # multi-head cash loans whose money goes to other lenders
    # ---- credit-line cash-out (套现)
    cash_out_share: float = 0.01  # share of credit-line customers who cash out
    cash_out_merchants: int = 5  # colluding merchants
    cash_out_device_share: float = 0.3  # cash-out purchases made on the merchant's device
    # ---- fund misuse (资金挪用)
    fund_misuse_share: float = 0.05  # share of ordinary self-payment cash loans misused
    fund_misuse_delay_days_min: int = 1  # days from the disbursement to a prohibited transfer (less up to 19 h)
    fund_misuse_delay_days_max: int = 30
    fund_misuse_share_min: float = 0.3  # share of the loan a misused loan moves (split over its transfers)
    fund_misuse_share_max: float = 1.0
    fund_misuse_splits_max: int = 2  # prohibited transfers per misused loan: 1..this
    fund_misuse_routed_share: float = 0.25  # misused loans whose money passes through own accounts first
    fund_misuse_hops: int = 2  # hops of a routed loan's money (2 = via one own account, 3 = via two, …)
    fund_misuse_payee_names: str = "registered"  # "variant": payees named in other wording, see texts.VARIANT_SUFFIX
    fund_misuse_category_known_share: float = 1.0  # prohibited transfers whose counterparty category is filled
    fund_misuse_other_share: float = 0.15  # prohibited transfers to crypto / gambling / business-supplier payees
    entrusted_mismatch_share: float = 0.03  # entrusted loans paid to another payee than the contract's
    # ---- splitting to evade entrusted payment (化整为零, DOMAIN §3.1): two self-payment drawdowns of 170 000–200 000
    # yuan each (each under the 300 000 yuan self-payment limit, together above it) paid to one big-ticket merchant
    splitting_share: float = 0.5  # customers with two ordinary cash loans who split
    splitting_payments_min: int = 3  # payments to the one payee: min..max
    splitting_payments_max: int = 5
    splitting_gap_hours_max: int = 72  # hours between the two drawdowns (1..this)
    splitting_days: int = 3  # the payments end within this many days after the second drawdown
    # ---- legitimate look-alikes of fund misuse (post-loan)
    lookalike_refund_share: float = 0.05  # loan-funded merchant payments refunded (money back in) 2–10 days later
    lookalike_own_onward_share: float = 0.5  # transfers to the borrower's own account spent on from there
    lookalike_service_share: float = 0.1  # self-payment loans that also pay property-service / insurance fees
    lookalike_repeat_share: float = 0.1  # self-payment loans that pay one everyday merchant 3–6 times within 7 days
    # ---- complaints
    complaint_agents: int = 3  # 代理维权 agents filing organised complaints
    organised_complaint_share: float = 0.3  # delinquent loans (DPD 30–90) recruited by an agent
    genuine_complaint_rate: float = 0.004  # genuine complaints per customer
    complaint_paraphrase: float = 0.3  # chance that an agent rewords each clause of its template
    complaint_rep_rotation: int = 0  # an agent switches representative after this many complaints (0 = never)
    complaint_wave_spread_days: int = 3  # an agent's wave is spread over this many days (slow waves: more)
    genuine_rep_share: float = 0.1  # genuine complaints filed by a lawyer or family member
    genuine_illness_share: float = 0.3  # genuine hardship complaints about an illness (hospital certificate)
    # ---- collections
    collection_agencies: int = 3  # outsourced agencies; the last one misbehaves
    misbehaving_loan_share: float = 0.5  # share of the misbehaving agency's loans with planted violations
    # ---- population structure (all off by default: the default world is unchanged; POPULATIONS["hard"] sets them)
    household_share: float = 0.0  # ordinary customers living in a household of 2..household_size_max applicants
    household_size_max: int = 4  # members share the home IP, often a device, each other's and a parent's phone
    large_employer_share: float = 0.0  # employed people working at a large employer
    large_employer_staff: int = 400  # mean staff per large employer (colleagues share a team lead's phone)
    migrant_share: float = 0.0  # people living in another region than the one of their ID number
    tenant_share: float = 0.0  # customers paying monthly rent to a private landlord account
    tenants_per_landlord: int = 40
    back_book_months: int = 0  # first months of the world hold ordinary business only (rings and theft after)
    lookalike_ring_share: float = 0.0  # ordinary customers sharing a ring's employer or listing a ring member
    phone_change_share: float = 0.0  # ordinary repeat applications from a new phone of the same person
    new_card_share: float = 0.0  # ordinary repeat applications with a newly bound card
    income_overstate_share: float = 0.0  # ordinary applications declaring 2–5 × the true income
    multi_head_flow_share: float = 0.0  # multi-head borrowers whose account shows other lenders' loans / repayments
    card_repayer_share: float = 0.0  # ordinary customers repaying one credit card / lender every month (look-alike)

    @classmethod
    def population(cls, name: str, **overrides: Any) -> SimConfig:
        """The named population preset (:data:`POPULATIONS`) with ``overrides`` applied."""
        if name not in POPULATIONS:
            raise SimConfigError("population", f"unknown population {name!r}; known: {', '.join(POPULATIONS)}")
        return cls(**{**POPULATIONS[name], **overrides})

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able parameters (start as an ISO date)."""
        d = dataclasses.asdict(self)
        d["start"] = self.start.isoformat()
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SimConfig:
        d = dict(d)
        if isinstance(d.get("start"), str):
            d["start"] = dt.date.fromisoformat(d["start"])
        names = {f.name for f in dataclasses.fields(cls)}
        for k in d:
            if k not in names:
                raise SimConfigError(k, "unknown parameter")
        return cls(**d)

    def validate(self) -> SimConfig:
        """Raise :class:`SimConfigError` naming the first bad parameter; return self."""
        ints = {
            "customers": (100, 5_000_000), "months": (3, 36), "seed": (0, 2**63 - 1),
            "attacker_apps_max": (1, 50), "ring_size_min": (2, 500), "ring_size_max": (2, 500),
            "ring_burst_days": (1, 60), "ring_apps_min": (1, 10), "ring_apps_max": (1, 10),
            "ring_gap_days_min": (1, 60), "ring_gap_days_max": (1, 60),
            "cash_out_merchants": (1, 1000), "complaint_agents": (1, 1000),
            "fund_misuse_delay_days_min": (0, 89), "fund_misuse_delay_days_max": (0, 89),
            "fund_misuse_splits_max": (1, 20), "fund_misuse_hops": (1, 5),
            "complaint_rep_rotation": (0, 100_000), "complaint_wave_spread_days": (1, 60),
            "collection_agencies": (1, 50), "splitting_payments_min": (3, 20), "splitting_payments_max": (3, 20),
            "splitting_gap_hours_max": (1, 144), "splitting_days": (0, 6),
            "household_size_max": (2, 12), "large_employer_staff": (20, 100_000),
            "tenants_per_landlord": (2, 10_000), "back_book_months": (0, 33),
        }
        for name, (lo, hi) in ints.items():
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int):
                raise SimConfigError(name, f"must be an integer, got {v!r}")
            if not lo <= v <= hi:
                raise SimConfigError(name, f"{v} is outside the allowed range {lo}..{hi}")
        shares = ("cash_loan_share", "repeat_application_share", "base_bad_rate", "late_payment_share",
                  "theft_rate", "deepfake_pass_share", "theft_victim_existing_share", "ring_member_share",
                  "ring_forged_share", "ring_agent_code_share", "ring_device_share", "multi_head_share",
                  "loan_to_repay_share", "cash_out_share", "cash_out_device_share", "fund_misuse_share",
                  "organised_complaint_share", "genuine_complaint_rate", "fund_misuse_share_min",
                  "fund_misuse_share_max", "fund_misuse_routed_share", "fund_misuse_category_known_share",
                  "fund_misuse_other_share",
                  "entrusted_mismatch_share", "lookalike_refund_share", "lookalike_own_onward_share",
                  "lookalike_service_share", "lookalike_repeat_share", "splitting_share", "complaint_paraphrase",
                  "genuine_rep_share", "genuine_illness_share", "misbehaving_loan_share", "household_share",
                  "large_employer_share", "migrant_share", "tenant_share", "lookalike_ring_share",
                  "phone_change_share", "new_card_share", "income_overstate_share", "multi_head_flow_share",
                  "card_repayer_share")
        for name in shares:
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | float) or not 0.0 <= float(v) <= 1.0:
                raise SimConfigError(name, f"must be a fraction between 0 and 1, got {v!r}")
        if self.base_bad_rate <= 0 or self.base_bad_rate >= 0.5:
            raise SimConfigError("base_bad_rate", f"must be in (0, 0.5), got {self.base_bad_rate!r}")
        if self.theft_rate > 0.1:
            raise SimConfigError("theft_rate", f"must be at most 0.1, got {self.theft_rate!r}")
        if self.ring_member_share > 0.2:
            raise SimConfigError("ring_member_share", f"must be at most 0.2, got {self.ring_member_share!r}")
        if self.multi_head_share > 0.3:
            raise SimConfigError("multi_head_share", f"must be at most 0.3, got {self.multi_head_share!r}")
        if self.cash_out_share > 0.2:
            raise SimConfigError("cash_out_share", f"must be at most 0.2, got {self.cash_out_share!r}")
        v = self.purchases_per_month
        if isinstance(v, bool) or not isinstance(v, int | float) or not 0 < v <= 200:
            raise SimConfigError("purchases_per_month", f"must be a number in (0, 200], got {v!r}")
        if self.ring_size_min > self.ring_size_max:
            raise SimConfigError("ring_size_min", f"{self.ring_size_min} is larger than ring_size_max "
                                 f"{self.ring_size_max}")
        if self.ring_apps_min > self.ring_apps_max:
            raise SimConfigError("ring_apps_min", f"{self.ring_apps_min} is larger than ring_apps_max "
                                 f"{self.ring_apps_max}")
        if self.ring_gap_days_min > self.ring_gap_days_max:
            raise SimConfigError("ring_gap_days_min", f"{self.ring_gap_days_min} is larger than "
                                 f"ring_gap_days_max {self.ring_gap_days_max}")
        if self.fund_misuse_delay_days_min > self.fund_misuse_delay_days_max:
            raise SimConfigError("fund_misuse_delay_days_min", f"{self.fund_misuse_delay_days_min} is larger than "
                                 f"fund_misuse_delay_days_max {self.fund_misuse_delay_days_max}")
        if self.splitting_payments_min > self.splitting_payments_max:
            raise SimConfigError("splitting_payments_min", f"{self.splitting_payments_min} is larger than "
                                 f"splitting_payments_max {self.splitting_payments_max}")
        if self.splitting_gap_hours_max + 24 * self.splitting_days >= 24 * 7:
            raise SimConfigError("splitting_days", "the drawdown gap and the payment days must fit in 7 days "
                                 "(the window of DOMAIN §3.3 item 4)")
        if not 0 < self.fund_misuse_share_min <= self.fund_misuse_share_max:
            raise SimConfigError("fund_misuse_share_min", f"must be in (0, fund_misuse_share_max], got "
                                 f"{self.fund_misuse_share_min!r}")
        if self.fund_misuse_payee_names not in ("registered", "variant"):
            raise SimConfigError("fund_misuse_payee_names", f"must be 'registered' or 'variant', got "
                                 f"{self.fund_misuse_payee_names!r}")
        if not isinstance(self.start, dt.date) or isinstance(self.start, dt.datetime):
            raise SimConfigError("start", f"must be a date, got {self.start!r}")
        if not isinstance(self.attacker_device_reuse, bool):
            raise SimConfigError("attacker_device_reuse", "must be true or false")
        if self.months - self.back_book_months < 3:
            raise SimConfigError("back_book_months", f"{self.back_book_months} leaves fewer than 3 of the "
                                 f"{self.months} months for the planted patterns")
        if self.ring_size_min * 2 > 0.3 * self.customers:
            raise SimConfigError("ring_size_min", f"two rings of {self.ring_size_min} members do not fit in "
                                 f"30 % of {self.customers} customers")
        return self


#: Named parameter sets. ``hard`` is a structurally different population (issue 17 item 5): households,
#: large employers, migrants, landlords paid by many tenants, an eight-month back book before the planted
#: patterns, and legitimate look-alikes of fraud (people sharing a ring's employer or a ring member's phone,
#: changed phones, newly bound cards, overstated incomes); thieves pass liveness, rings rarely carry an
#: intermediary code or forged statements. Fields not named keep their defaults.
POPULATIONS: dict[str, dict[str, Any]] = {
    "default": {},
    "hard": {
        "months": 11, "back_book_months": 8, "household_share": 0.5, "household_size_max": 5,
        "large_employer_share": 0.5, "large_employer_staff": 400, "migrant_share": 0.25, "tenant_share": 0.35,
        "tenants_per_landlord": 40, "lookalike_ring_share": 0.01, "phone_change_share": 0.3,
        "new_card_share": 0.3, "income_overstate_share": 0.1, "deepfake_pass_share": 0.9,
        "ring_agent_code_share": 0.2, "ring_forged_share": 0.2, "ring_device_share": 0.4,
        "purchases_per_month": 4.0,
        "multi_head_flow_share": 1.0,
        "card_repayer_share": 0.25,
    },
}
