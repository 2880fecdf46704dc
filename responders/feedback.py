"""People correcting the model: a label correction is stored beside the score, never over it.

The model's suggestion and the person's decision stay apart (as Argilla keeps
suggestion and response apart), so corrections can later train a better model
and the original score stays auditable.
"""

from __future__ import annotations

from typing import Any

from responders.lifecycle import check_role, require
from responders.service import Service
from voxwatch.domain import LABELS
from voxwatch.permissions import Action
from voxwatch.store import queries
from voxwatch.store.database import Connection


class LabelFeedback(Service):
    """A person says the model got a case's sentiment wrong."""

    def correct(self, case_id: str, actor: str, label: str) -> None:
        """A person says the model got the sentiment wrong: stored beside the score, never over it.

        Corrections may train the next model, so only people who read cases
        (``Action.CORRECT_LABELS``) make them.
        """
        check_role(Action.CORRECT_LABELS, self.settings.person(actor))
        require(label in LABELS, f"label must be one of {', '.join(LABELS)}")

        def _do(conn: Connection, case: dict[str, Any]) -> None:
            now = self.clock()
            was = case["corrected_label"] or case["label"]
            queries.insert_label_correction(
                conn, case["mention_id"], case["model_id"] or "?", label, actor, now
            )
            queries.append_audit(
                conn, now, actor, "case", case["id"], "label_corrected", {"label": was}, {"label": label}
            )

        self._act(case_id, _do)
