"""RigFit's purchase advisor: complete builds, tiers, cloud offers and break-even.

It sits above the engine (:mod:`sizing`) and below the report builders and the
front ends. :func:`advisor.plan.plan` is the entry point; the modules hold
one concern each: candidates (engine runs), parts (platforms, slots, PSU),
builds (one checked machine), tiers (the three picks), cloud and prices
(renting, money, break-even), results (the typed answers).
"""
