"""The fraud pack's one registration (entry point ``fengkong.packs: fraud``): what it adds to the platform."""

from fengkong.packs import DemoSection, Pack

PACK = Pack(
    name="fraud",
    description="Identity theft, debt-bearing rings and the link graph, multi-head lending, cash-out merchants.",
    features="fengkong.fraud.provider",
    lists={
        "identity_lock": "identity tokens locked after a confirmed theft (block)",
        "fraud_ring_members": "customers of a detected ring (watch)",
        "fraud_ring_elements": "devices, phones, accounts shared inside a ring (block)",
    },
    evaluator="fengkong.fraud.evaluate",
    demo=(DemoSection("fengkong.fraud.demo:stage_fraud", order=50, title="Fraud"),),
    console_pages=("fengkong.console.pages_rings",),
    cli=("fengkong.fraud.cli",),
)
