"""Ticket classes as data: ref prefix, states, stimuli and transitions (an iTop-like lifecycle per class).

Adding a class or a transition is editing this table, not code. The reference's Change subclasses
(RoutineChange, NormalChange, EmergencyChange: its target_class values) share the Change lifecycle and its
`C-` prefix here; a ref says "a change", its ticket's class says which kind.
"""
from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Lifecycle:
    klass: str
    prefix: str
    initial: str
    transitions: dict[str, dict[str, str]]  # state -> {stimulus: new state}
    done_states: tuple[str, ...]  # resolved/closed: a reply follows closed_ticket_behavior
    closed_state: str = "closed"

    def target(self, state: str, stimulus: str) -> str | None:
        """The state a stimulus leads to from `state`, or None when the lifecycle has no such transition."""
        return self.transitions.get(state, {}).get(stimulus)

    def stimuli_from(self, state: str) -> list[str]:
        return sorted(self.transitions.get(state, {}))

    @property
    def states(self) -> list[str]:
        found = {self.initial, *self.transitions}
        for moves in self.transitions.values():
            found.update(moves.values())
        return sorted(found)


_REQUEST_LIKE = {
    "new": {"ev_assign": "assigned", "ev_pending": "pending", "ev_resolve": "resolved", "ev_close": "closed"},
    "assigned": {"ev_pending": "pending", "ev_resolve": "resolved", "ev_close": "closed", "ev_reassign": "assigned"},
    "pending": {"ev_assign": "assigned", "ev_reopen": "assigned", "ev_resolve": "resolved", "ev_close": "closed"},
    "resolved": {"ev_reopen": "assigned", "ev_close": "closed"},
    "closed": {"ev_reopen": "assigned"},
}

LIFECYCLES: dict[str, Lifecycle] = {
    "UserRequest": Lifecycle("UserRequest", "R-", "new", _REQUEST_LIKE, ("resolved", "closed")),
    "Incident": Lifecycle("Incident", "I-", "new", _REQUEST_LIKE, ("resolved", "closed")),
    "Change": Lifecycle(
        "Change",
        "C-",
        "new",
        {
            "new": {"ev_assign": "assigned", "ev_close": "closed"},
            "assigned": {"ev_plan": "planned", "ev_close": "closed"},
            "planned": {"ev_implement": "implemented", "ev_assign": "assigned", "ev_close": "closed"},
            "implemented": {"ev_monitor": "monitored", "ev_close": "closed", "ev_reopen": "assigned"},
            "monitored": {"ev_close": "closed", "ev_reopen": "assigned"},
            "closed": {"ev_reopen": "assigned"},
        },
        ("closed",),
    ),
    "Problem": Lifecycle(
        "Problem",
        "P-",
        "new",
        {
            "new": {"ev_assign": "assigned", "ev_close": "closed"},
            "assigned": {"ev_resolve": "resolved", "ev_close": "closed", "ev_reassign": "assigned"},
            "resolved": {"ev_close": "closed", "ev_reopen": "assigned"},
            "closed": {"ev_reopen": "assigned"},
        },
        ("resolved", "closed"),
    ),
}
# After Change, so that class_of_ref("C-...") names the base class.
LIFECYCLES.update({name: replace(LIFECYCLES["Change"], klass=name)
                   for name in ("RoutineChange", "NormalChange", "EmergencyChange")})


def lifecycle(klass: str) -> Lifecycle:
    return LIFECYCLES[klass]


def class_of_ref(ref: str) -> str | None:
    """'R-000123' -> 'UserRequest'; a 'C-' ref is 'Change' (its subclasses share the prefix)."""
    for cycle in LIFECYCLES.values():
        if ref.upper().startswith(cycle.prefix):
            return cycle.klass
    return None
