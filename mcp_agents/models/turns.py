"""Turns of a run: when the agent's turn is over, as the hosted web client reads it.

An interactive run does not complete after it answers: it posts IDLE on its main workstream and
waits for the next `UserInput`. The turn is over when the last message of the main workstream is
COMPLETE, IDLE, REQUEST_INPUT, QUESTION or TERMINATED; the same types on a child workstream, or
about a child run, do not end the run's turn, and a passive UPDATE (a file changed) does not mean
the agent works again. Waits, tasks and the viewer all read turns through `Turn`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from mcp_agents.models.messages import INPUT_TYPES, MAIN_WORKSTREAM, AgentMessage, MessageType

PASSIVE_EVENT_CLASSES = frozenset({"artifact_updated"})


class TurnState(StrEnum):
    WORKING = "working"
    """The agent is at work (or about to be: a turn starts when input is sent)."""
    WAITING = "waiting_for_input"
    """The turn is over: the agent asked something (QUESTION, REQUEST_INPUT) or went IDLE for the next input."""
    ENDED = "ended"
    """The run itself is over: COMPLETE on the main workstream, or TERMINATED."""


def is_passive(message: AgentMessage) -> bool:
    """A message that says nothing about whether the agent works (a file changed, a stream chunk's echo)."""
    details = message.details
    return (message.type is MessageType.UPDATE and isinstance(details, dict)
            and details.get("event_class") in PASSIVE_EVENT_CLASSES)


def turn_effect(message: AgentMessage) -> TurnState | None:
    """The state a message puts the run's turn in, or None when it does not touch the turn."""
    if message.child_run_id:
        return None
    if message.type is MessageType.TERMINATED:
        return TurnState.ENDED
    if message.workstream_id != MAIN_WORKSTREAM or is_passive(message):
        return None
    if message.type is MessageType.COMPLETE:
        return TurnState.ENDED
    if message.type is MessageType.IDLE or message.type in INPUT_TYPES:
        return TurnState.WAITING
    return TurnState.WORKING


@dataclass
class Turn:
    """The turn of one run as its messages tell it, fed in order from where a reader started.

    A reader that starts mid-run (from a cursor) starts WORKING: a turn begins when input is sent,
    and the messages before the cursor belong to turns the caller already saw end.
    """

    state: TurnState = TurnState.WORKING
    question: AgentMessage | None = None
    """The pending QUESTION or REQUEST_INPUT, kept through the IDLE that follows it, until the run goes on."""
    ended_by: AgentMessage | None = None
    """The message that ended the turn (IDLE, COMPLETE, TERMINATED, or the question itself)."""

    def take(self, message: AgentMessage) -> TurnState | None:
        """Account for one message; returns the new state when the message changed the turn."""
        effect = turn_effect(message)
        if effect is None:
            return None
        if effect is TurnState.WORKING:
            self.question = None
            self.ended_by = None
        else:
            if message.type in INPUT_TYPES:
                self.question = message
            elif effect is TurnState.ENDED:
                self.question = None
            self.ended_by = message
        changed = effect is not self.state
        self.state = effect
        return effect if changed else None

    @property
    def over(self) -> bool:
        return self.state is not TurnState.WORKING

    @property
    def idle(self) -> bool:
        """Waiting for the next input with no question pending (an answered turn, or a Stop)."""
        return self.state is TurnState.WAITING and self.question is None
