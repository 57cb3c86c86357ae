"""`python -m contractflow.demo`: the driver `make demo` runs against the stack
scripts/demo.sh started (its settings come from the same environment). Two contracts live
side by side: A is changed once and extends itself, B is let end, handed over and
re-tendered. Exits 0 when both reached their final state, 1 (naming the step) otherwise.

DEMO_TERM_DAYS  [120]  each contract's term
DEMO_LEAD_DAYS  [14]   business days between filing the requirement and the start date
"""

from __future__ import annotations

import os
import sys
import threading
import traceback

from contractflow.demo.events import EventLog
from contractflow.demo.lifecycle import ContractStory, Plan
from contractflow.demo.narration import Narrator, trace_of
from contractflow.demo.people import DIRECTORY, DemoFailed, person_body
from contractflow.demo.stack import Stack, wait_for
from contractflow.events.kafka_bus import partitions_of


def main() -> int:
    stack = Stack.from_environment()
    narrator = Narrator(stack)
    events = EventLog(stack.bootstrap, stack.prefix, narrator.on_event, narrator.on_dead_letter)
    events.start()
    term, lead = (
        int(os.environ.get("DEMO_TERM_DAYS", "120")),
        int(os.environ.get("DEMO_LEAD_DAYS", "14")),
    )
    try:
        topics = [stack.prefix + t for t in sorted(events.catalogue.topics())]
        wait_for(
            f"the topics {stack.prefix}* on Kafka {stack.bootstrap}",
            lambda: all(partitions_of(stack.bootstrap, topics).values()),
            60,
        )
        admin = stack.api("approval", "admin.demo", "approval-admin", "workflow-admin")
        for person in DIRECTORY:
            admin.ok("PUT", f"/approval/directory/people/{person}", json=person_body(person))
        narrator.say("demo", f"approver directory seeded ({len(DIRECTORY)} people)")
        stories = [
            ContractStory(stack, events, narrator, Plan("A", True, lead, term)),
            ContractStory(stack, events, narrator, Plan("B", False, lead, term)),
        ]
        failures = run_side_by_side(stories)
        return report(stack, narrator, events, stories, failures)
    except DemoFailed as exc:  # before the contracts' stories began
        narrator.say("demo", f"FAILED: {exc}")
        return 1
    finally:
        events.close()


def run_side_by_side(stories: list[ContractStory]) -> dict[str, str]:
    failures: dict[str, str] = {}

    def live(story: ContractStory) -> None:
        try:
            story.live()
        except Exception as exc:  # told with the step, then the demo fails
            failures[story.plan.label] = f"{type(exc).__name__}: {exc}"
            story.say(f"FAILED: {exc}")
            traceback.print_exc()

    threads = [threading.Thread(target=live, args=(s,), name=s.plan.label) for s in stories]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failures


def report(
    stack: Stack,
    narrator: Narrator,
    events: EventLog,
    stories: list[ContractStory],
    failures: dict[str, str],
) -> int:
    print(flush=True)
    print(f"events per topic (prefix {stack.prefix}):")
    counts = events.per_topic()
    for topic in sorted(counts):
        print(f"  {topic:<28} {counts[topic]:>6}")
    print(f"  {'total':<28} {sum(counts.values()):>6}")
    for story in stories:
        if not story.contract_id:
            continue
        own = events.of_contract(story.contract_id)
        traces = {e.trace_id for e in own}
        one = traces == {trace_of(story.contract_id)}
        print(
            f"contract {story.plan.label} {story.contract_id}: {len(own)} events, "
            f"{'one trace ' + trace_of(story.contract_id) if one else f'traces {traces}'}"
        )
        if not one:
            failures.setdefault(story.plan.label, f"its events carry several traces: {traces}")
    for letter in events.dead_letters:
        print(
            f"dead letter on {letter.topic}: {letter.event.type} {letter.event.subject}: "
            f"{letter.reason}"
        )
    for label, why in sorted(failures.items()):
        print(f"contract {label} FAILED: {why}")
    if failures or events.dead_letters:
        narrator.say(
            "demo",
            f"FAILED: {len(failures)} contract(s), {len(events.dead_letters)} dead letter(s)",
        )
    else:
        narrator.say("demo", "done: both contracts reached their final state")
    return 1 if failures or events.dead_letters else 0


if __name__ == "__main__":
    sys.exit(main())
