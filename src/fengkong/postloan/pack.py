"""The post-loan pack's one registration (entry point ``fengkong.packs: postloan``): what it adds."""

from fengkong.packs import DemoSection, Pack

PACK = Pack(
    name="postloan",
    description="Fund-flow tracing of loan money, early-warning alerts and cases, evidence packs, vintages.",
    features="fengkong.postloan.provider",
    evaluator="fengkong.postloan.evaluate",
    demo=(DemoSection("fengkong.postloan.demo:stage_postloan", order=70, title="Post-loan"),),
    cli=("fengkong.postloan.cli",),
)
