"""Answering "was a protection order issued for the index incident?" from the case's orders.

Every order, the first one included, obliges an individual correction plan within 2 working
days (Resolution No. 441). The intake asks about it (``order_issued_index_incident``), but an
officer who has recorded the order on the case expects the store to know it: when the item is
left unanswered and the case holds an order issued on or before the assessment date, the
answer is taken from that order before scoring, and the caller says so. An answer the
assessor gave, yes or no, is never changed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..assessment import Assessment
from .models import ProtectionOrder
from .records import case_by_code

ITEM = "order_issued_index_incident"


def answer_from_orders(s: Session, case_code: str, a: Assessment, responses: dict[str, Any]
                       ) -> tuple[Assessment, dict[str, Any], ProtectionOrder | None]:
    """The assessment and its responses with the item answered yes from the case's latest
    order issued on or before the assessment date, and that order; unchanged (and None) when
    the instrument has no such item, the assessor answered it, or the case holds no order."""
    if ITEM not in a.answers or a.answers[ITEM] is not None:
        return a, responses, None
    case = case_by_code(s, case_code)
    order = s.scalar(select(ProtectionOrder)
                     .where(ProtectionOrder.case_id == case.id,
                            ProtectionOrder.issued_on <= a.date)
                     .order_by(ProtectionOrder.issued_on.desc(), ProtectionOrder.id.desc())
                     .limit(1))
    if order is None:
        return a, responses, None
    answered = a.model_copy(update={"answers": {**a.answers, ITEM: 1}})
    return answered, {**responses, ITEM: "yes"}, order
