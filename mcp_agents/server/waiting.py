"""Following one or many runs while a tool waits: live progress, questions, bounded time.

Each run is followed concurrently (`messages.retrieve` for what is already stored, then
`messages.stream` for what comes), and every message is relayed at once as a progress
notification. A wait ends when any or all runs are settled (done, or waiting on a question
nobody here can answer), or when its time is up; it never touches the runs themselves, so a
cancelled wait leaves them running.

Questions go to the human when the client can ask one: in the handshake era with a live
`elicitation/create` bounded by the remaining time, in the 2026-07-28 era by returning an
`InputRequiredResult` whose sealed `request_state` carries the cursors, so that the client's
retry sends the answer as `UserInput` and goes on waiting where this round stopped.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import anyio
from mcp.server.elicitation import AcceptedElicitation, render_elicitation_schema
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ElicitRequest, ElicitRequestFormParams, ElicitResult, InputRequiredResult
from mcp_types.version import is_version_at_least
from pydantic import BaseModel, Field

from mcp_agents.client import AgentRunsClient
from mcp_agents.client.errors import AgentRunsError
from mcp_agents.models import TERMINAL_STATUSES, AgentMessage, AgentRun, MessageType
from mcp_agents.models.cursor import START, Cursor, Position
from mcp_agents.models.messages import INPUT_TYPES
from mcp_agents.models.turns import Turn, TurnState, turn_effect
from mcp_agents.server.rendering import clip, message_gist, progress_line, short_id, work_units
from mcp_agents.server.tools.results import WAITING, MessageDigest, RunsUpdate, RunUpdate, next_step_for

logger = logging.getLogger(__name__)

Until = Literal["any", "all"]
INPUT_REQUIRED_VERSION = "2026-07-28"
STATE_VERSION = 1
LAST_LINES = 5
MAX_TOOLS = 12
HISTORY_RELAY = 20
QUESTION_MAX = 1500
ANSWER_KEY = "answer:"
MIN_SETUP_SECONDS = 5.0
STATUS_POLLS = 20
STATUS_POLL_SECONDS = 0.1
FINISH_SECONDS = 3.0  # bound of the last reads after the wait (final statuses, answers left out)


class HumanAnswer(BaseModel):
    """The form a human sees when a run asks a question."""

    answer: str = Field(description="Your answer to the agent")


@dataclass(slots=True)
class Watch:
    """What a wait knows about one run: the per-run accumulator of waits and tasks.

    Feed it the run's messages in the service's order with `take` (it skips what its cursor says was
    delivered: `read` does so for a whole read from `cursor.since`) and the run's record with `see`;
    `result()` is where the run stands. A watch that starts from a cursor starts a new turn (WORKING):
    the messages before the cursor belong to turns the caller already saw end. A replica holds one per
    followed run for the whole wait: slots, and a short list rather than a deque (whose first block alone
    is 600 bytes), keep that small.
    """

    run_id: str
    since: Cursor = START
    status: str = "unknown"
    interaction: str | None = None
    done: bool = False
    count: int = 0
    by_type: Counter[str] = field(default_factory=Counter)
    tools: list[str] = field(default_factory=list)
    last: list[str] = field(default_factory=list)  # the newest `LAST_LINES` lines (see `_keep_last`)
    answer: str | None = None  # from an ANSWER message (the run's own): the answer of the turn
    completion: str | None = None  # the end-of-run COMPLETE's text: the answer when there is no ANSWER
    turn: Turn = field(default_factory=Turn)
    eliciting: bool = False
    declined: bool = False
    error: str | None = None
    note: str | None = None
    units: tuple[int, int] | None = None
    ended: bool = False
    caught_up: bool = False
    stale_idle: bool = False
    position: Position = field(init=False)

    def __post_init__(self) -> None:
        self.position = Position(Cursor.parse(self.since))

    @property
    def cursor(self) -> Cursor:
        """Where the caller stands once it has this watch's result (pass back to go on from here)."""
        return self.position.cursor

    @property
    def question(self) -> str | None:
        """The pending question's text (QUESTION or REQUEST_INPUT, kept through the IDLE after it)."""
        asked = self.turn.question
        return None if asked is None else asked.message or "(the agent asks for input)"

    @property
    def waiting(self) -> bool:
        """The run's turn is over and it waits for input (it is not done)."""
        return not self.done and self.turn.state is TurnState.WAITING

    @property
    def settled(self) -> bool:
        """Nothing more to wait for: history read, and the run is done, or its turn is over (answered, asked,
        stopped) and no human is being asked right now."""
        return self.caught_up and (self.done or (self.waiting and not self.eliciting))

    def read(self, messages: Sequence[AgentMessage]) -> list[AgentMessage]:
        """Take a complete read from `cursor.since`; returns the new messages, in order.

        The read returns the messages of the cursor's millisecond again (skipped: delivered before). When
        the last of them to touch the turn is a question, the caller has seen it, and an IDLE that follows
        (the hosted service posts one after a question) is the question's, not the end of a new turn;
        when it is anything else, that IDLE was delivered already.
        """
        self.position.restart()
        new: list[AgentMessage] = []
        for message in messages:
            if self.take(message):
                new.append(message)
            elif not new and turn_effect(message) is not None:
                self.stale_idle = message.type in INPUT_TYPES
        self.position.settle()
        return new

    def take(self, message: AgentMessage) -> bool:
        """Account for one message of this run (or of a child it reports on); False when already delivered."""
        if not self.position.accept(message):
            return False
        self.count += 1
        self.by_type[message.type.value] += 1
        tool = message.tool_name
        if tool and tool not in self.tools and len(self.tools) < MAX_TOOLS:
            self.tools.append(tool)
        if message.type not in (MessageType.STREAMING_CHUNK, MessageType.ANSWER, *INPUT_TYPES):
            gist = message_gist(message)
            if gist:
                self._keep_last(f"{message.type.value} {clip(message.workstream_id, 30)}: {clip(gist, 160)}")
        units = work_units(message)
        if units is not None:
            self.units = units
        effect = turn_effect(message)
        if self.stale_idle and effect is not None:
            # The IDLE that followed the question just answered was posted before the answer: it does not
            # end the new turn. Anything else from the agent means it is past it.
            self.stale_idle = effect is TurnState.WAITING and message.type is MessageType.IDLE
        if not self.stale_idle:
            self.turn.take(message)
            if effect is not None and message.type in INPUT_TYPES:
                self.declined = False  # a new question: the human may be asked again
        if message.child_run_id:
            return True
        if message.message and message.type is MessageType.ANSWER:
            self.answer = message.message
        elif message.message and message.type is MessageType.COMPLETE and message.ends_run:
            self.completion = message.message
        elif message.type is MessageType.ERROR and message.message:
            self.error = message.message
        if message.ends_run:
            self.ended = True  # `done` once the run's record says so too (see `Waiter.settle_status`)
        return True

    def _keep_last(self, *lines: str) -> None:
        self.last.extend(lines)
        del self.last[:-LAST_LINES]

    def answered(self, question: bool | None = None) -> None:
        """Input was sent: a new turn starts. When it answers a question (`question`, default: the one
        pending here), the IDLE the run may still post after that question does not end the new turn."""
        self.stale_idle = self.turn.question is not None if question is None else question
        self.turn = Turn()
        self.declined = False

    def see(self, run: AgentRun) -> None:
        self.status = run.status
        self.interaction = run.interaction_name or run.interaction or self.interaction
        if run.status in TERMINAL_STATUSES:
            self.done = True
            self.turn.question = None
            if run.status == "failed" and not self.error:
                self.error = "the run failed"

    def result(self) -> RunUpdate:
        units = f"{self.units[0]}/{self.units[1]}" if self.units else None
        digest = MessageDigest(count=self.count, by_type=dict(self.by_type), tools=list(self.tools),
                               last=list(self.last))
        question = self.question if not self.done else None
        return RunUpdate(run_id=self.run_id, status=self.status, interaction=self.interaction, done=self.done,
                         turn=WAITING if self.waiting else None, cursor=str(self.cursor), messages=digest,
                         progress=units, answer=self.answer or self.completion,
                         question=question[:QUESTION_MAX] if question else None, error=self.error, note=self.note)

    def dump(self) -> dict[str, Any]:
        asked = self.turn.question
        return {"since": str(self.cursor), "count": self.count, "by_type": dict(self.by_type), "tools": self.tools,
                "last": list(self.last), "status": self.status, "interaction": self.interaction,
                "turn": self.turn.state.value, "question": self.question if asked is not None else None,
                "asked": asked.type.value if asked is not None else None, "answer": self.answer,
                "completion": self.completion,
                "error": self.error, "units": list(self.units) if self.units else None, "ended": self.ended}

    @classmethod
    def load(cls, run_id: str, raw: Mapping[str, Any]) -> Watch:
        watch = cls(run_id, Cursor.parse(raw.get("since")), status=str(raw.get("status", "unknown")),
                    interaction=raw.get("interaction"), count=int(raw.get("count", 0)),
                    by_type=Counter({str(k): int(v) for k, v in dict(raw.get("by_type", {})).items()}),
                    tools=[str(t) for t in raw.get("tools", [])][:MAX_TOOLS],
                    answer=raw.get("answer"), completion=raw.get("completion"),
                    error=raw.get("error"), ended=bool(raw.get("ended")))
        try:
            watch.turn.state = TurnState(raw.get("turn", TurnState.WORKING.value))
        except ValueError:
            watch.turn.state = TurnState.WORKING
        question = raw.get("question")
        if isinstance(question, str):
            kind = MessageType.REQUEST_INPUT if raw.get("asked") == MessageType.REQUEST_INPUT.value \
                else MessageType.QUESTION
            watch.turn.question = AgentMessage(type=kind, message=question)
            watch.turn.state = TurnState.WAITING
        units = raw.get("units")
        if isinstance(units, list) and len(units) == 2:
            watch.units = (int(units[0]), int(units[1]))
        watch._keep_last(*(str(line) for line in raw.get("last", [])))
        return watch


def final_answer(messages: Sequence[AgentMessage]) -> str | None:
    """The run's answer from its messages: its last ANSWER, else the text of its end-of-run COMPLETE."""
    complete: str | None = None
    for message in reversed(messages):
        if message.child_run_id or not message.message:
            continue
        if message.type is MessageType.ANSWER:
            return message.message
        if complete is None and message.type is MessageType.COMPLETE and message.ends_run:
            complete = message.message
    return complete


def can_elicit(ctx: Context[Any, Any]) -> bool:
    """The client declared form elicitation (and, before 2026-07-28, the transport can reach it)."""
    caps = ctx.client_capabilities
    elicitation = caps.elicitation if caps is not None else None
    if elicitation is None or (elicitation.form is None and elicitation.url is not None):
        return False
    return modern(ctx) or bool(ctx.session.can_send_request)


def modern(ctx: Context[Any, Any]) -> bool:
    version = ctx.protocol_version
    return version is not None and is_version_at_least(version, INPUT_REQUIRED_VERSION)


def question_text(watch: Watch) -> str:
    return f"Agent run {short_id(watch.run_id)} asks (agent-written text):\n{clip(watch.question or '', QUESTION_MAX)}"


class Waiter:
    """One wait over one or many runs; `run()` returns the update, or the input the client must supply.

    A replica holds one per waiting caller for minutes: slots, and nothing built before it is needed.
    """

    __slots__ = (
        "_ask_lock",
        "client",
        "ctx",
        "elicit",
        "input_needed",
        "relayed",
        "resumed",
        "stop",
        "stopped",
        "timeout",
        "tool",
        "until",
        "watches",
    )

    def __init__(self, ctx: Context[Any, Any], client: AgentRunsClient, tool: str, run_ids: Sequence[str],
                 since: Mapping[str, Cursor] | None, until: Until, timeout: float, *, may_ask: bool = True) -> None:
        self.ctx = ctx
        self.client = client
        self.tool = tool
        self.until = until
        self.timeout = timeout
        self.watches = {run_id: Watch(run_id, (since or {}).get(run_id, START)) for run_id in run_ids}
        self.relayed = 0
        self._ask_lock: anyio.Lock | None = None  # a lock holds a deque: built for the first question asked
        self.elicit = may_ask and can_elicit(ctx)
        self.input_needed = False
        self.stop: anyio.CancelScope | None = None  # while following: bounds the wait, and cancelled once satisfied
        self.stopped = False  # `stop` was cancelled because the wait is satisfied (not by its deadline)
        self.resumed: bool | None = None

    # -- the sealed state of the 2026-07-28 input-required round trip --------------------------------------

    def resume(self) -> bool:
        """Restore the previous round from `request_state`; True when this call is a retry."""
        self.resumed = False
        raw = self.ctx.request_state
        if not raw:
            return False
        try:
            state = json.loads(raw)
        except ValueError:
            return False
        if not isinstance(state, dict) or state.get("v") != STATE_VERSION or state.get("tool") != self.tool:
            return False
        runs = state.get("runs")
        if not isinstance(runs, dict) or not runs:
            return False
        self.watches = {run_id: Watch.load(run_id, raw_watch) for run_id, raw_watch in runs.items()}
        self.relayed = int(state.get("relayed", 0))  # progress keeps increasing across rounds
        self.resumed = True
        return True

    def state(self) -> str:
        return json.dumps({"v": STATE_VERSION, "tool": self.tool, "relayed": self.relayed,
                           "runs": {run_id: watch.dump() for run_id, watch in self.watches.items()}},
                          separators=(",", ":"))

    async def apply_answers(self) -> None:
        """Send the human's answers from the retry as UserInput; a decline leaves the question to the model."""
        responses = self.ctx.input_responses or {}
        for key, response in responses.items():
            watch = self.watches.get(key.removeprefix(ANSWER_KEY)) if key.startswith(ANSWER_KEY) else None
            if watch is None or not isinstance(response, ElicitResult):
                continue
            content = response.content or {}
            answer = content.get("answer") if response.action == "accept" else None
            if isinstance(answer, str) and answer.strip():
                await self.send_answer(watch, answer)
            else:
                watch.declined = True
                watch.note = f"the user did not answer ({response.action})"

    async def send_answer(self, watch: Watch, answer: str) -> None:
        await self.client.communication.send_signal(watch.run_id, "UserInput", {"message": answer})
        watch.note = f"the user answered: {clip(answer, 120)}"
        watch.answered()

    def input_required(self) -> InputRequiredResult:
        schema = render_elicitation_schema(HumanAnswer)
        requests = {ANSWER_KEY + watch.run_id: ElicitRequest(params=ElicitRequestFormParams(
            message=question_text(watch), requested_schema=schema))
            for watch in self.watches.values() if watch.question is not None and watch.eliciting}
        return InputRequiredResult(input_requests=requests, request_state=self.state())

    # -- following ------------------------------------------------------------------------------------

    def satisfied(self) -> bool:
        """Checked after every relayed message: lazy, so that `until=all` stops at the first unsettled run
        instead of reading all of them (one wait over 100 busy runs)."""
        settled = (watch.settled for watch in self.watches.values())
        return any(settled) if self.until == "any" else all(settled)

    async def relay(self, run_id: str, message: AgentMessage) -> None:
        """One progress notification per message (streaming chunks excepted).

        `progress` counts relayed messages, so it always increases; `total` is sent once every
        followed run has told its work (plan steps, or a `total` in its details): the messages so
        far plus the units still to do, an estimate that reaches `progress` when the work is done.
        """
        if message.type is MessageType.STREAMING_CHUNK:
            return
        self.relayed += 1
        total: float | None = None
        # Lazy: with 100 runs followed, stops at the first that has not told its work (the usual case).
        if all(watch.done or watch.units is not None for watch in self.watches.values()):
            left = [watch.units[1] - watch.units[0] for watch in self.watches.values()
                    if not watch.done and watch.units is not None]
            if left:
                total = self.relayed + sum(left)
        await self.ctx.report_progress(self.relayed, total, progress_line(run_id, message))

    async def on_question(self, watch: Watch) -> None:
        """A live question: ask the human if the client can, else leave it for the model."""
        if not self.elicit or watch.declined or watch.question is None:
            return
        if modern(self.ctx):
            watch.eliciting = True
            self.input_needed = True
            self._stop()
            return
        watch.eliciting = True
        try:
            async with self.ask_lock():
                outcome = await self.ctx.elicit(question_text(watch), HumanAnswer)
        except anyio.get_cancelled_exc_class():
            watch.note = "the wait ended before the user answered"
            raise
        except Exception as exc:  # a client that fails the request: the model answers instead
            logger.info("elicitation failed: %s", type(exc).__name__)
            watch.note = "could not ask the user"
            watch.declined = True
            return
        finally:
            watch.eliciting = False
        if isinstance(outcome, AcceptedElicitation) and outcome.data.answer.strip():
            await self.send_answer(watch, outcome.data.answer)
        else:
            watch.declined = True
            watch.note = f"the user did not answer ({outcome.action})"

    async def follow(self, watch: Watch) -> None:
        try:
            new = watch.read(await self.client.messages.retrieve(watch.run_id, since=watch.cursor.since))
            for message in new[-HISTORY_RELAY:]:
                await self.relay(watch.run_id, message)
            watch.caught_up = True
            await self.check(watch)
            if not watch.done and not watch.ended:
                async for message in self.client.messages.stream(watch.run_id, since=watch.cursor,
                                                                 read_history=False):
                    if watch.take(message):
                        await self.relay(watch.run_id, message)
                        await self.check(watch)
                watch.ended = True  # the stream ends only with the run; `done` waits for its record
            await self.settle_status(watch)
        except AgentRunsError as exc:
            watch.caught_up = True
            watch.error = f"following the run failed: {exc}"
            watch.done = watch.done or watch.status in TERMINAL_STATUSES
            watch.note = "the wait stopped following this run; wait again to resume"
            watch.declined = True
            self.stop_if_satisfied(force=True)
            return
        self.stop_if_satisfied()

    async def settle_status(self, watch: Watch) -> None:
        """The run's final status once its messages ended (bounded: the record can lag the end a moment).

        `done` is set only by `Watch.see` with a terminal status, never before, so a run is not
        reported done with the status read before its end, even when another run stops the wait
        while this one is still being read.
        """
        for attempt in range(STATUS_POLLS):
            if watch.status in TERMINAL_STATUSES:
                return
            if attempt:
                await anyio.sleep(STATUS_POLL_SECONDS)
            watch.see(await self.client.runs.retrieve(watch.run_id))
        watch.note = f"its messages ended but the service still reports it {watch.status}; wait again"

    async def finish(self) -> None:
        """After the wait, bounded: the final status of runs whose end was seen but not yet read (the wait
        stopped first), and the answer of done runs whose ANSWER was not among the messages this wait read
        (older than the cursor, or at the cursor's own timestamp)."""
        with anyio.move_on_after(FINISH_SECONDS):
            for watch in self.watches.values():
                try:
                    if watch.ended and not watch.done:
                        watch.see(await self.client.runs.retrieve(watch.run_id))
                    if watch.done and watch.answer is None and watch.status == "completed":
                        watch.answer = final_answer(await self.client.messages.retrieve(watch.run_id))
                except AgentRunsError as exc:
                    logger.info("reading the end of run %s failed: %s", short_id(watch.run_id), type(exc).__name__)

    async def check(self, watch: Watch) -> None:
        if watch.question is not None and not watch.done:
            await self.on_question(watch)
        self.stop_if_satisfied()

    def stop_if_satisfied(self, force: bool = False) -> None:
        if self.satisfied() or (force and self.until == "any"):
            self._stop()

    def _stop(self) -> None:
        if self.stop is not None:
            self.stopped = True
            self.stop.cancel()

    def ask_lock(self) -> anyio.Lock:
        """One question at a time to the human (handshake era)."""
        if self._ask_lock is None:
            self._ask_lock = anyio.Lock()
        return self._ask_lock

    async def run(self) -> RunsUpdate | InputRequiredResult:
        """Wait; call `resume()` first when the caller must know whether this is a retry."""
        deadline = time.monotonic() + self.timeout
        if self.resumed is None:
            self.resume()
        try:
            with anyio.fail_after(max(self.timeout, MIN_SETUP_SECONDS)):
                if self.resumed:
                    await self.apply_answers()
                await self._see_all()
        except TimeoutError:
            raise ToolError(f"the Agent Runs service did not answer within {self.timeout:g} s; retry") from None
        followed: list[Watch] = []
        for watch in self.watches.values():
            if watch.question is not None and watch.declined:
                watch.caught_up = True  # the user declined this round: the question goes to the model
            else:
                followed.append(watch)
        remaining = max(deadline - time.monotonic(), 0)
        with anyio.CancelScope(deadline=anyio.current_time() + remaining) as scope:  # one scope: the time bound
            self.stop = scope
            await self._follow_all(followed)
        self.stop = None
        timed_out = scope.cancelled_caught and not self.stopped
        if self.input_needed:
            return self.input_required()
        await self.finish()
        update = RunsUpdate(runs=[watch.result() for watch in self.watches.values()], timed_out=timed_out)
        update.next_step = next_step_for(update)
        return update

    async def _follow_all(self, watches: Sequence[Watch]) -> None:
        """Follow every watch at once; a single run (the usual wait) in this task, without a task of its own,
        which is most of what an idle wait would otherwise hold beyond its caller's request."""
        if len(watches) == 1:
            await self.follow(watches[0])
            return
        async with anyio.create_task_group() as group:
            for watch in watches:
                group.start_soon(self.follow, watch)

    async def _see_all(self) -> None:
        """Every run's record into its watch; the records themselves are not kept for the wait."""
        for run_id, run in zip(self.watches, await self._retrieve_all(), strict=True):
            self.watches[run_id].see(run)

    async def _retrieve_all(self) -> list[AgentRun]:
        """Every run at once; the first failure is raised as itself (not as an exception group)."""
        runs: dict[str, AgentRun] = {}
        failures: list[AgentRunsError] = []

        async def one(run_id: str) -> None:
            try:
                runs[run_id] = await self.client.runs.retrieve(run_id)
            except AgentRunsError as exc:
                failures.append(exc)

        async with anyio.create_task_group() as group:
            for run_id in self.watches:
                group.start_soon(one, run_id)
        if failures:
            raise failures[0]
        return [runs[run_id] for run_id in self.watches]
