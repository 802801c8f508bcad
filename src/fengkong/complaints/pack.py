"""The complaints pack's one registration (entry point ``fengkong.packs: complaints``): what it adds."""

from fengkong.packs import DemoSection, Pack

PACK = Pack(
    name="complaints",
    description='Organised (agent-driven) complaint groups and the "not me" path.',
    features="fengkong.complaints.provider",
    lists={
        "collection_freeze": 'debtors whose collection is frozen while a "not me" claim is open',
        "risky_account": 'accounts named in confirmed "not me" claims',
    },
    evaluator="fengkong.complaints.evaluate",
    demo=(
        DemoSection(
            "fengkong.complaints.demo:stage_complaints", order=80, title="Complaints and collections"
        ),
    ),
    cli=("fengkong.complaints.cli",),
)
