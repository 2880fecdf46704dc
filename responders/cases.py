"""Everything a person does to a case, each as one transaction with its audit entry.

The CLI and the dashboard both call these; the rules (roles in
``voxwatch.permissions``, states and four eyes in ``responders.lifecycle``) are
checked here on every call, so no screen can get around them. Notes about
authors are ``responders.authors``; label corrections ``responders.feedback``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from responders.delivery import outbox_for
from responders.lifecycle import check, check_not_own_draft, check_role, require
from responders.lint import lint, load_rules
from responders.replies import reply_message
from responders.routing import choose_owner
from responders.service import Clock, Service, utcnow
from responders.templates import TemplateLibrary, render, reply_by_text
from voxwatch.domain import CaseStatus, Outgoing
from voxwatch.errors import ChangedMeanwhile, InvalidTransition
from voxwatch.i18n import N_  # refusals are shown in the reader's language (Translator.recorded)
from voxwatch.permissions import Action, may
from voxwatch.settings import ResponderSettings, Settings
from voxwatch.store import queries
from voxwatch.store.database import Connection


class CaseService(Service):
    """Actions on cases by a named person (``actor``), checked against settings."""

    def __init__(self, settings: Settings, clock: Clock = utcnow) -> None:
        super().__init__(settings, clock)
        self._library: TemplateLibrary | None = None

    @property
    def library(self) -> TemplateLibrary:
        if self._library is None:
            self._library = TemplateLibrary.load(self.settings.library.templates)
        return self._library

    # --- plumbing -------------------------------------------------------------------

    def _change(
        self,
        conn: Connection,
        case: dict[str, Any],
        actor: str,
        action: str,
        changes: dict[str, Any],
        note: dict[str, Any] | None = None,
    ) -> None:
        now = self.clock()
        before = {k: case.get(k) for k in changes}
        queries.update_case(conn, case["id"], changes | {"updated_at": now})
        queries.append_audit(conn, now, actor, "case", case["id"], action, before, changes | (note or {}))

    # --- reading ----------------------------------------------------------------------

    def show(self, case_id: str) -> dict[str, Any]:
        def _read(conn: Connection) -> dict[str, Any]:
            case = self.case(conn, case_id)
            found = case["id"]  # case_id may be a number or a prefix: read the rest by the id itself
            case["draft"] = queries.latest_draft(conn, found)
            case["handoffs"] = queries.handoffs(conn, found)
            case["audit"] = queries.case_audit(conn, found)
            case["outbox"] = queries.case_outbox(conn, found)
            case["follow_ups"] = queries.case_follow_ups(conn, found)  # the customer's next mentions
            return case

        return self.store.read(_read)

    def list(
        self, status: str | None = None, owner: str | None = None, team: str | None = None
    ) -> list[dict]:
        statuses = [status] if status else list(queries.OPEN_STATUSES)
        return self.store.read(lambda conn: queries.list_cases(conn, statuses, owner, team))

    # --- ownership ------------------------------------------------------------------

    def assign(
        self,
        case_id: str,
        actor: str,
        to: str,
        proceed: Callable[[Connection, dict[str, Any]], bool] | None = None,
    ) -> None:
        """Give the case to ``to`` (claiming is assigning to oneself; ``claim`` checks who had it).

        ``proceed`` (``claim``'s check) sees the case inside the same transaction and
        returns False to leave it as it is.

        A case that would change team, or that belongs to a team the actor is not
        in, is a claim on another team's work: only supervisors may (a responder
        hands off, with a reason), and the audit entry names both teams.
        """
        from responders.lifecycle import check_team  # imported here: this method's edit stays in it

        person = self.settings.person(actor)
        target = self.settings.person(to)
        require(
            may(target.roles, Action.OWN_CASES),
            N_("{person} is not a responder and cannot own cases").format(person=to),
        )

        def _do(conn: Connection, case: dict[str, Any]) -> None:
            if proceed is not None and not proceed(conn, case):
                return
            nxt = check("assign", person, CaseStatus(case["status"]))
            check_team("assign", person, case["team"], case["owner"], target.team)
            moved = target.team != case["team"]
            self._change(
                conn,
                case,
                actor,
                "assigned",
                {"owner": to, "first_owner": case["first_owner"] or to, "team": target.team, "status": nxt},
                {"team_moved": {"from": case["team"], "to": target.team}} if moved else None,
            )

        self._act(case_id, _do)

    def claim(self, case_id: str, actor: str, seen_owner: str | None) -> None:
        """Take the case, if it is still with ``seen_owner`` (whom the person saw own it, or nobody).

        Two people claiming at the same moment both saw the same owner: the first
        claim to commit wins, and the other is refused with ``ChangedMeanwhile``
        naming who has it, instead of silently taking it from them. Claiming one's
        own case again changes nothing.
        """

        def _still_with(conn: Connection, case: dict[str, Any]) -> bool:
            owner = case["owner"]
            if owner == actor:
                return False  # already theirs: nothing to do, nothing to audit
            if owner != seen_owner:
                raise ChangedMeanwhile(
                    N_(
                        "{owner} has this case now (claimed after you looked); ask them to hand it over"
                    ).format(owner=owner or N_("nobody"))
                )
            return True

        self.assign(case_id, actor, actor, _still_with)

    def handoff(
        self, case_id: str, actor: str, reason: str, to_team: str | None = None, to: str | None = None
    ) -> None:
        """Hand the work to another team or person; the first owner stays accountable.

        Only the case's team (or its owner) hands it off; taking another team's case
        this way is a claim, for supervisors only.
        """
        from responders.lifecycle import check_team

        person = self.settings.person(actor)
        require(bool(reason.strip()), N_("a hand-off needs a reason"))
        require(bool(to_team or to), N_("say which team (--team) or person (--to) takes it"))

        def _do(conn: Connection, case: dict[str, Any]) -> None:
            check("handoff", person, CaseStatus(case["status"]))
            check_team("handoff", person, case["team"], case["owner"], case["team"])
            if to:
                taker = self.settings.person(to)
                require(
                    may(taker.roles, Action.OWN_CASES),
                    N_("{person} is not a responder and cannot own cases").format(person=to),
                )
            new_team = self.settings.person(to).team if to else str(to_team)
            require(
                any(p.team == new_team for p in self.settings.people_who_may(Action.OWN_CASES)),
                N_("no responders in team {team}").format(team=repr(new_team)),
            )
            new_owner = to or choose_owner(
                self.settings.responders, new_team, case["lang"], queries.open_load(conn)
            )
            queries.insert_handoff(
                conn,
                case["id"],
                self.clock(),
                actor,
                case["team"],
                new_team,
                case["owner"],
                new_owner,
                reason,
            )
            self._change(
                conn,
                case,
                actor,
                "handed_off",
                {"team": new_team, "owner": new_owner, "first_owner": case["first_owner"] or case["owner"]},
                {"reason": reason},
            )

        self._act(case_id, _do)

    # --- replying -------------------------------------------------------------------

    def suggest(self, case: dict[str, Any], situation: str, actor: ResponderSettings) -> tuple[str, str]:
        """The template's suggestion for this case: ``(template key, rendered body)``.

        The reply-by promise is the resolution due time, or, when that has passed, a
        time still ahead of this draft (``reply_by_text``), in the team's time zone.
        """
        template = self.library.get(situation, case["lang"])
        due, sla = case["resolution_due"], self.settings.sla
        body = render(
            template,
            customer=case["author"] or "",  # an empty name greets in the template's language
            brand=self.settings.brand.name,
            responder=actor.display_name,
            reply_by=reply_by_text(due, template.lang, self._timezone(), now=self.clock(), sla=sla),
            case_ref=case["id"],
        )
        return template.key, body

    def _timezone(self) -> str:
        """The zone customers read promises in: the team's working hours' zone, else UTC."""
        hours = self.settings.sla.business_hours
        return hours.timezone if hours else "UTC"

    def draft(
        self, case_id: str, actor: str, situation: str = "first_response", body: str | None = None
    ) -> dict:
        """Start a reply from the template (or from ``body``), lint it, and store it."""
        person = self.settings.person(actor)
        rules = load_rules(self.settings.library.lint_rules)

        def _do(conn: Connection, case: dict[str, Any]) -> dict[str, Any]:
            nxt = check("draft", person, CaseStatus(case["status"]))
            require(
                case["owner"] == actor,
                N_("only the owner ({owner}) drafts replies on this case").format(owner=case["owner"]),
            )
            key, suggested = self.suggest(case, situation, person)
            text = suggested if body is None else body
            findings = [f.as_dict() for f in lint(text, situation, case["lang"], rules, allowed=suggested)]
            draft = {
                "case_id": case["id"],
                "situation": situation,
                "lang": case["lang"] or "en",
                "template_key": key,
                "body": text,
                "author": actor,
                "created_at": self.clock(),
                "findings": findings,
                "state": "draft",
            }
            draft["version"] = queries.insert_draft(conn, draft)
            self._change(
                conn,
                case,
                actor,
                "drafted",
                {"status": nxt},
                {"draft_version": draft["version"], "template": key, "lint": [f["rule"] for f in findings]},
            )
            return draft

        return self._act(case_id, _do)

    def submit(self, case_id: str, actor: str) -> None:
        """Send the latest draft to a comms lead; drafts with blocking findings go back."""
        person = self.settings.person(actor)

        def _do(conn: Connection, case: dict[str, Any]) -> None:
            nxt = check("submit", person, CaseStatus(case["status"]))
            draft = queries.latest_draft(conn, case["id"])
            require(draft is not None and draft["state"] == "draft", N_("there is no open draft to submit"))
            assert draft is not None
            errors = [f for f in draft["findings"] if f["severity"] == "error"]
            require(
                not errors,
                N_("fix the linter's findings first: {findings}").format(
                    findings="; ".join(f"{f['rule']} at {f['start']}" for f in errors)
                ),
            )
            queries.update_draft(conn, draft["id"], {"state": "pending_approval"})
            self._change(conn, case, actor, "submitted", {"status": nxt}, {"draft_version": draft["version"]})

        self._act(case_id, _do)

    def _decide(self, case_id: str, actor: str, approve: bool, comment: str, version: int | None) -> None:
        person = self.settings.person(actor)
        action = "approve" if approve else "reject"

        def _do(conn: Connection, case: dict[str, Any]) -> None:
            nxt = check(action, person, CaseStatus(case["status"]))
            draft = queries.latest_draft(conn, case["id"])
            require(
                draft is not None and draft["state"] == "pending_approval",
                N_("no draft is waiting for approval"),
            )
            assert draft is not None
            if version is not None and draft["version"] != version:  # a newer draft came in meanwhile
                raise ChangedMeanwhile(
                    N_(
                        "the draft changed since you read it: v{latest} is waiting now, not v{seen};"
                        " read it first"
                    ).format(latest=draft["version"], seen=version)
                )
            check_not_own_draft(person, draft["author"])
            require(approve or bool(comment.strip()), N_("sending a draft back needs a comment"))
            queries.update_draft(
                conn,
                draft["id"],
                {
                    "state": "approved" if approve else "rejected",
                    "decided_by": actor,
                    "decided_at": self.clock(),
                    "decision_comment": comment,
                },
            )
            verb = "approved" if approve else "rejected"
            self._change(
                conn,
                case,
                actor,
                verb,
                {"status": nxt},
                {"draft_version": draft["version"], "comment": comment},
            )

        self._act(case_id, _do)

    def approve(self, case_id: str, actor: str, comment: str = "", version: int | None = None) -> None:
        """Approve the waiting draft; ``version``: the one the approver read (a newer one is refused)."""
        self._decide(case_id, actor, True, comment, version)

    def reject(self, case_id: str, actor: str, comment: str, version: int | None = None) -> None:
        self._decide(case_id, actor, False, comment, version)

    def send(self, case_id: str, actor: str, version: int | None = None) -> dict[str, Any]:
        """Release the approved draft: queue exactly that version in the outbox, then publish it.

        Queueing and the state change are one transaction; publishing happens after
        it, outside any transaction (``responders.outbox``), so a slow platform never
        holds the store and a crash between the post and our commit cannot post twice.
        ``version`` is the version the person saw approved: if a newer one exists, this
        refuses. The first response counts from when the reply is public (published,
        or its link recorded for a reply posted by hand). Returns the outbox entry.
        """
        person = self.settings.person(actor)

        def _do(conn: Connection, case: dict[str, Any]) -> Outgoing:
            nxt = check("send", person, CaseStatus(case["status"]))
            draft = queries.latest_draft(conn, case["id"])
            require(
                draft is not None and draft["state"] == "approved", N_("only an approved draft can be sent")
            )
            assert draft is not None
            require(
                version is None or draft["version"] == version,
                N_("draft v{version} is not the approved one: v{approved} is; review it first").format(
                    version=version, approved=draft["version"]
                ),
            )
            message = reply_message(self.settings, case, draft)
            now = self.clock()
            queries.enqueue(conn, message, now)
            queries.update_draft(conn, draft["id"], {"state": "sent", "sent_at": now})
            self._change(
                conn,
                case,
                actor,
                "sent",
                {"status": nxt},
                {"draft_version": draft["version"], "channel": message.channel, "outbox": message.key},
            )
            return message

        message: Outgoing = self._act(case_id, _do)
        if message.state == "pending":
            outbox_for(self.settings, self.clock).deliver(message.key)
        return self._outbox_entry(message.key)

    def record_reply_link(self, case_id: str, actor: str, url: str) -> None:
        """A reply posted by hand (or one whose outcome was unknown) is public here: record it."""
        person = self.settings.person(actor)
        require(
            url.startswith(("https://", "http://")),
            N_("{url} is not a link to the posted reply").format(url=repr(url)),
        )

        def _do(conn: Connection, case: dict[str, Any]) -> None:
            check_role("send", person)
            waiting = [e for e in queries.case_outbox(conn, case["id"]) if e["kind"] == "reply"]
            open_ = [e for e in waiting if e["state"] in ("awaiting_link", "unknown")]
            require(bool(open_), N_("no reply of this case is waiting for its link"))
            entry = open_[-1]
            now = self.clock()
            queries.update_entry(
                conn, entry["key"], {"state": "sent", "sent_at": now, "external_url": url, "last_error": None}
            )
            changes: dict[str, Any] = {"reply_url": url}
            if case["first_response_at"] is None:
                changes["first_response_at"] = now
            self._change(conn, case, actor, "published", changes, {"draft_version": entry["draft_version"]})

        self._act(case_id, _do)

    def resend(self, case_id: str, actor: str) -> dict[str, Any]:
        """A reply whose outcome was unknown was checked by a person and is not there: send it again."""
        person = self.settings.person(actor)

        def _do(conn: Connection, case: dict[str, Any]) -> str:
            check_role("send", person)
            unknown = [e for e in queries.case_outbox(conn, case["id"]) if e["state"] == "unknown"]
            require(bool(unknown), N_("no reply of this case has an unknown outcome"))
            key = str(unknown[-1]["key"])
            queries.update_entry(conn, key, {"state": "pending", "next_attempt_at": self.clock()})
            self._change(conn, case, actor, "resent", {}, {"outbox": key})
            return key

        key: str = self._act(case_id, _do)
        outbox_for(self.settings, self.clock).deliver(key)
        return self._outbox_entry(key)

    def _outbox_entry(self, key: str) -> dict[str, Any]:
        entry = self.store.read(lambda conn: queries.get_entry(conn, key))
        assert entry is not None, key  # queued in a transaction that committed
        return entry

    # --- closing the loop -------------------------------------------------------------

    def follow_up(self, case_id: str, actor: str, note: str) -> None:
        person = self.settings.person(actor)

        def _do(conn: Connection, case: dict[str, Any]) -> None:
            nxt = check("follow_up", person, CaseStatus(case["status"]))
            self._change(
                conn,
                case,
                actor,
                "followed_up",
                {"status": nxt, "followed_up_at": self.clock()},
                {"note": note},
            )

        self._act(case_id, _do)

    def close(self, case_id: str, actor: str, waive_follow_up: str | None = None) -> None:
        """Close a case: only after the follow-up, or with the reason it was waived."""
        person = self.settings.person(actor)

        def _do(conn: Connection, case: dict[str, Any]) -> None:
            nxt = check("close", person, CaseStatus(case["status"]))
            done = case["followed_up_at"] is not None
            if not done and not (waive_follow_up and waive_follow_up.strip()):
                raise InvalidTransition(
                    N_("the follow-up is not done: follow up first, or close with a reason to waive it")
                )
            changes: dict[str, Any] = {"status": nxt, "resolved_at": self.clock()}
            if not done:
                changes["follow_up_waived"] = waive_follow_up
            self._change(conn, case, actor, "closed", changes)

        self._act(case_id, _do)

    def dismiss(self, case_id: str, actor: str, reason: str) -> None:
        person = self.settings.person(actor)
        require(bool(reason.strip()), N_("dismissing needs a reason"))

        def _do(conn: Connection, case: dict[str, Any]) -> None:
            nxt = check("dismiss", person, CaseStatus(case["status"]))
            self._change(conn, case, actor, "dismissed", {"status": nxt, "dismissed_reason": reason})

        self._act(case_id, _do)

    def reopen(self, case_id: str, actor: str, reason: str) -> None:
        person = self.settings.person(actor)

        def _do(conn: Connection, case: dict[str, Any]) -> None:
            check("reopen", person, CaseStatus(case["status"]))
            status = CaseStatus.ASSIGNED if case["owner"] else CaseStatus.NEW
            self._change(
                conn, case, actor, "reopened", {"status": status, "resolved_at": None}, {"reason": reason}
            )

        self._act(case_id, _do)
