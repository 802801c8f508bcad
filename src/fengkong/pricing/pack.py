"""The pricing pack's one registration (entry point ``fengkong.packs: pricing``): what it adds to the platform."""

from fengkong.packs import DemoSection, Pack

PACK = Pack(
    name="pricing",
    description="Schedules, the annualised cost (IRR), rate caps and compliance, risk-based price, interest subsidy.",
    strategy_functions=("fengkong.pricing.strategy_functions",),
    demo=(DemoSection("fengkong.pricing.demo:stage_pricing", order=60, title="Pricing compliance"),),
    console_pages=("fengkong.console.pages_compliance",),
    cli=("fengkong.pricing.cli",),
)
