"""Automation: downstream assets follow their inputs eagerly, but never past a failed gate."""

import dagster as dg

# Within one run a failing blocking check already skips the children. But when a parent is
# updated by a run that did not include the child (by hand, by a job or a sensor) and its
# gate fails there, eager() alone would request the child in a run of its own, past the
# failed gate. Requiring every upstream blocking check to have passed closes that gap.
EAGER_AFTER_GATES = (
    dg.AutomationCondition.eager() & dg.AutomationCondition.all_deps_blocking_checks_passed()
).with_label("eager_after_gates")
