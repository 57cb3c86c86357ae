"""`make demo`: two contracts lived through from requirement to their final state by the
real processes (scripts/demo.sh starts them), on an accelerated business clock
(contractflow.clock). `python -m contractflow.demo` is the driver: it acts as the people
would (HTTP, the links in the caught mail), plays the monitoring system that reports KPIs,
and prints each step as it happens with the contract's trace id.
"""
