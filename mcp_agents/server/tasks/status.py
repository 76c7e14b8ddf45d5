"""Run -> task: what a task (one turn of a run) is, read from the Agent Runs service alone.

A task's state is derived from the run's record and the messages from the turn's start cursor
up to the first message that ends the turn (COMPLETE, TERMINATED, IDLE with nothing pending,
a RESTARTING that shows the workflow ended): nothing after it counts, so a finished task stays
finished even when the run is restarted or sent more input later.

Answers given through a task leave a trace in the run's history (an UPDATE on the `mcp-tasks`
workstream, which the turn logic ignores): the first trace for a question wins, so a duplicate
`tasks/update` (a retry, two replicas at once) never delivers an answer twice, and a declined
question is remembered by every replica.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import secrets
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import anyio
from mcp.server.elicitation import render_elicitation_schema
from mcp.types import CallToolResult, ElicitRequest, ElicitRequestFormParams

from mcp_agents.client import AgentRunsClient
from mcp_agents.client.errors import ConflictError
from mcp_agents.models import TERMINAL_STATUSES, AgentMessage, AgentRun, MessageType
from mcp_agents.models.messages import INPUT_TYPES
from mcp_agents.models.turns import Turn, TurnState, turn_effect
from mcp_agents.server.rendering import clip, progress_line, short_id
from mcp_agents.server.tasks.ids import TaskRef
from mcp_agents.server.tools._common import reply
from mcp_agents.server.tools.results import RunsUpdate, next_step_for, render_update
from mcp_agents.server.waiting import QUESTION_MAX, HumanAnswer, Watch

logger = logging.getLogger(__name__)

TaskStatus = Literal["working", "input_required", "completed", "failed", "cancelled"]
TERMINAL: frozenset[str] = frozenset({"completed", "failed", "cancelled"})
MARKER_WORKSTREAM = "mcp-tasks"
MARKER_EVENT = "task_input"
POLL_WORKING_MS = 2000
POLL_INPUT_MS = 1000
CACHE_ENTRIES = 512


@dataclass(frozen=True)
class Question:
    """A pending QUESTION or REQUEST_INPUT; `key` is derived from its message (stable, unique in the task)."""

    key: str
    text: str
    timestamp: int | None

    def form(self, run_id: str) -> dict[str, Any]:
        """The `elicitation/create` request that asks the human."""
        message = f"Agent run {short_id(run_id)} asks (agent-written text):\n{clip(self.text, QUESTION_MAX)}"
        request = ElicitRequest(params=ElicitRequestFormParams(
            message=message, requested_schema=render_elicitation_schema(HumanAnswer)))
        return request.model_dump(by_alias=True, exclude_none=True, mode="json")


@dataclass
class TaskView:
    """A task as `tasks/get` shows it."""

    ref: TaskRef
    status: TaskStatus
    status_message: str | None = None
    questions: list[Question] = field(default_factory=list)
    """The pending questions (input_required), each with its own key."""
    result: CallToolResult | None = None
    error: dict[str, Any] | None = None
    updated_ms: int = 0

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def poll_ms(self) -> int:
        return POLL_INPUT_MS if self.status == "input_required" else POLL_WORKING_MS


def question_key(message: AgentMessage) -> str:
    """`question-<hash of the message's identity>`: the same message always gives the same key."""
    digest = hashlib.sha256(json.dumps(message.identity(), default=str).encode()).hexdigest()[:20]
    return f"question-{digest}"


def marker_of(message: AgentMessage) -> tuple[str, str, str] | None:
    """(question key, action, nonce) when the message is an answer trace left by a task."""
    details = message.details
    if message.workstream_id != MARKER_WORKSTREAM or not isinstance(details, Mapping):
        return None
    if details.get("event_class") != MARKER_EVENT:
        return None
    key, action, nonce = details.get("question"), details.get("action"), details.get("nonce")
    if isinstance(key, str) and isinstance(action, str) and isinstance(nonce, str):
        return key, action, nonce
    return None


def new_watch(ref: TaskRef) -> Watch:
    """The wait's per-run accumulator, positioned at the turn's start (the one place that builds it)."""
    return Watch(ref.run_id, ref.start)


def derive(ref: TaskRef, run: AgentRun, messages: Sequence[AgentMessage]) -> TaskView:
    """The task from the run's record and its messages read from `ref.start.since` (service order)."""
    watch = new_watch(ref)
    turn = Turn()
    answered: dict[str, str] = {}
    asked: list[Question] = []  # the questions of the current wait, in order (usually one)
    end: str | None = None
    updated = ref.created_ms
    last_line: str | None = None
    for message in messages:
        if not watch.take(message):  # the watch skips what the turn's start cursor says was delivered
            continue
        if message.timestamp is not None:
            updated = max(updated, message.timestamp)
        marker = marker_of(message)
        if marker is not None:
            answered.setdefault(marker[0], marker[1])
            actions = [answered.get(question.key) for question in asked]
            if asked and None not in actions and any(action != "accept" for action in actions):
                end = "declined"  # every question has its answer trace, and one was not answered
                break
            continue
        if message.type is not MessageType.STREAMING_CHUNK:
            last_line = progress_line(ref.run_id, message)
        if message.type is MessageType.RESTARTING and not message.child_run_id:
            end = "restarted"
            break
        effect = turn_effect(message)
        turn.take(message)
        if effect is TurnState.WORKING:
            asked = []
        elif effect is TurnState.WAITING and message.type in INPUT_TYPES:
            asked.append(Question(question_key(message), message.message or "(the agent asks for input)",
                                  message.timestamp))
        if turn.state is TurnState.ENDED:
            end = "terminated" if message.type is MessageType.TERMINATED else "complete"
            break
        if turn.idle:
            end = "idle"
            break
    if end is None and run.status in TERMINAL_STATUSES:
        end = f"run-{run.status}"
    view = TaskView(ref, "working", status_message=last_line, updated_ms=updated)
    if end is None:
        pending = [question for question in asked if question.key not in answered]
        if pending:
            view.status, view.questions = "input_required", pending
            view.status_message = clip(f"the agent asks: {pending[0].text}", 200)
        return view
    if end in ("terminated", "run-cancelled"):
        view.status = "cancelled"
        view.status_message = "the run was cancelled"
        return view
    view.status = "completed"
    view.result = _result(run, watch, end, asked)
    return view


def _result(run: AgentRun, watch: Watch, end: str, asked: list[Question]) -> CallToolResult:
    """The `CallToolResult` a synchronous wait would have returned when the turn ended."""
    failed = end in ("run-failed", "restarted")
    if end in ("complete", "run-completed"):
        status = "completed"
    elif failed:
        status = "failed"
    else:  # the turn ended and the run waits for input; what the run did later does not count
        status = run.status if run.status not in TERMINAL_STATUSES else "running"
    watch.see(run.model_copy(update={"status": status}))
    if end == "restarted":
        watch.error = watch.error or "the run's workflow ended before this turn finished, and the run was restarted"
    if end == "declined" and asked:
        watch.turn.question = AgentMessage(type=MessageType.QUESTION,
                                           message="\n".join(question.text for question in asked))
        watch.turn.state = TurnState.WAITING
        watch.note = "the user did not answer through the task: answer with send_agent_input"
    update = RunsUpdate(runs=[watch.result()])
    update.next_step = next_step_for(update)
    result = reply(update, render_update(update))
    if failed:
        result.is_error = True
    return result


@dataclass
class _Pending:
    """A read in flight that others may wait for; `read` is set when it may be shared."""

    since: int
    done: anyio.Event = field(default_factory=anyio.Event)
    read: _Read | None = None


@dataclass(frozen=True)
class _Read:
    """One read of a run: its record and its messages from `since` on; reused until `until` (monotonic)."""

    until: float
    since: int
    run: AgentRun
    messages: list[AgentMessage]


class TaskReader:
    """Reads tasks with the caller's client, with a cache per (credential, run) shared by everyone who reads them.

    A read is reused for as long as the interval the task it produced advertises (`pollIntervalMs`): a client
    polling at that interval always gets a fresh read (its next poll comes after the interval has passed), while
    every other reader within the interval (more pollers of the task, other tasks of the run, the task's listen
    stream) is answered from it, and readers that come while it is in flight wait for it, so together they cost
    one read per interval. What the server itself writes to a run (an answer or cancel through a task,
    `send_agent_input`, `cancel_agent_run`, `restart_agent_run`) drops the run's reads, and a read that began
    before the write is neither kept nor shared: no one is shown the state from before it.
    """

    def __init__(self) -> None:
        self._cache: OrderedDict[tuple[str, str], _Read] = OrderedDict()
        self._reading: dict[tuple[str, str], _Pending] = {}
        self._written: OrderedDict[str, float] = OrderedDict()
        """When the server last wrote to each run (monotonic): reads that began before it are not kept."""

    async def observe(self, client: AgentRunsClient, credential: str, ref: TaskRef, *,
                      fresh: bool = False) -> TaskView:
        """Two backend requests (the run, the turn's messages), or none when this run was read with this
        credential within the interval that read advertised, or is being read (by any task, any listen stream:
        a read from an earlier turn's start covers later turns)."""
        key = (credential, ref.run_id)
        read = None
        if not fresh:
            read = self._cache.get(key)
            if read is not None and (read.until <= time.monotonic() or read.since > ref.start.since):
                read = None
            pending = self._reading.get(key)
            if read is None and pending is not None and pending.since <= ref.start.since:
                await pending.done.wait()
                read = pending.read  # None when it failed or a write overtook it: read afresh
        if read is None:
            read = await self._read(client, key, ref)
        else:
            self._cache.move_to_end(key)
        messages = read.messages
        if read.since < ref.start.since:  # an earlier turn's read: keep what a read from this turn's start returns
            messages = [m for m in messages if m.timestamp is None or m.timestamp > ref.start.since]
        return derive(ref, read.run, messages)

    async def _read(self, client: AgentRunsClient, key: tuple[str, str], ref: TaskRef) -> _Read:
        started = time.monotonic()
        pending = _Pending(ref.start.since)
        if key not in self._reading:
            self._reading[key] = pending
        try:
            run = await client.runs.retrieve(ref.run_id)
            messages = await client.messages.retrieve(ref.run_id, since=ref.start.since)
            until = started + derive(ref, run, messages).poll_ms / 1000
            read = _Read(until, ref.start.since, run, messages)
            if self._written.get(ref.run_id, -math.inf) < started:  # else the server wrote to the run meanwhile
                pending.read = self._cache[key] = read
                self._cache.move_to_end(key)
                while len(self._cache) > CACHE_ENTRIES:
                    self._cache.popitem(last=False)
            return read
        finally:
            if self._reading.get(key) is pending:
                del self._reading[key]
            pending.done.set()

    def written(self, run_id: str) -> None:
        """The server has just written to `run_id` (an input, a cancel, a restart): every cached read of it, by
        any credential, and any read in flight, is older than that write."""
        for key in [key for key in self._cache if key[1] == run_id]:
            del self._cache[key]
        self._written[run_id] = time.monotonic()
        self._written.move_to_end(run_id)
        while len(self._written) > CACHE_ENTRIES:
            self._written.popitem(last=False)

    async def answer(self, client: AgentRunsClient, credential: str, ref: TaskRef,
                     responses: Mapping[str, Any]) -> None:
        """Apply `tasks/update` responses: each accepted answer goes to the run as `UserInput`, once.

        Responses to keys that are not pending are ignored. A trace is written first and read back:
        only the writer of the first trace for a question sends the answer.
        """
        view = await self.observe(client, credential, ref, fresh=True)
        chosen = [(question, *_response(responses[question.key])) for question in view.questions
                  if question.key in responses]
        if view.status != "input_required" or not chosen:
            return
        nonces: dict[str, str] = {}
        for question, action, _ in chosen:
            nonces[question.key] = secrets.token_hex(8)
            await client.messages.post(
                ref.run_id, type="UPDATE", workstream_id=MARKER_WORKSTREAM,
                message="the user answered through an MCP task" if action == "accept" else
                f"the user did not answer through an MCP task ({action})",
                details={"event_class": MARKER_EVENT, "question": question.key, "action": action,
                         "nonce": nonces[question.key]})
        since = max(0, (chosen[0][0].timestamp or ref.start.since) - 1)
        first: dict[str, str] = {}
        for message in await client.messages.retrieve(ref.run_id, since=since):
            marker = marker_of(message)
            if marker is not None:
                first.setdefault(marker[0], marker[2])
        try:
            for question, action, answer in chosen:
                if action == "accept" and answer is not None and first.get(question.key) == nonces[question.key]:
                    await client.communication.send_signal(ref.run_id, "UserInput", {"message": answer})
        finally:
            self.written(ref.run_id)  # after the answer went out: a read before it would still show the question

    async def cancel(self, client: AgentRunsClient, credential: str, ref: TaskRef) -> None:
        """Terminate the run, unless the task's turn is already over (then nothing happens)."""
        view = await self.observe(client, credential, ref, fresh=True)
        if view.terminal:
            return
        try:
            with contextlib.suppress(ConflictError):  # it ended meanwhile: the task shows how
                await client.runs.terminate(ref.run_id, reason="cancelled through its MCP task")
        finally:
            self.written(ref.run_id)


def _response(raw: Any) -> tuple[str, str | None]:
    """(action, answer) from an `ElicitResult`-shaped response; anything unusable counts as a decline."""
    if hasattr(raw, "model_dump"):
        raw = raw.model_dump(mode="json", by_alias=True)
    if not isinstance(raw, Mapping):
        return "decline", None
    action = raw.get("action")
    content = raw.get("content")
    if action == "accept" and isinstance(content, Mapping) and content:
        answer = content.get("answer")
        if isinstance(answer, str):
            if answer.strip():
                return "accept", answer
        else:  # another form's fields: the agent reads them as JSON
            return "accept", json.dumps(dict(content), separators=(",", ":"), default=str)
    return ("cancel" if action == "cancel" else "decline"), None

