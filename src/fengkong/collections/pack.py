"""The collections pack's one registration (entry point ``fengkong.packs: collections``): what it adds."""

from fengkong.packs import Pack

PACK = Pack(
    name="collections",
    description="The contact policy enforced per contact attempt and its violation report.",
    features="fengkong.collections.provider",
    lists={"collection_freeze": "debtors no collector may contact (read before every contact attempt)"},
    evaluator="fengkong.collections.evaluate",
    cli=("fengkong.collections.cli",),
)
