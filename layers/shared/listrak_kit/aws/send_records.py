"""The send records: one DynamoDB item per reference (`send#<reference>`), the send's state machine and its record.

Stored without the address itself once the send is settled: a masked form for people, and a fingerprint to match
Listrak's activity rows. While the outcome is unknown the item also keeps the prepared payload (address and
values; the table is encrypted at rest), because reconciling or sending again needs it; the write that settles the
send removes it. Attempts are a map keyed by number, so one update can close one attempt and open the next.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from listrak_kit.aws.clients import aws_client
from listrak_kit.aws.table import KEY, TTL_ATTRIBUTE, from_attribute, to_attribute
from listrak_kit.clock import from_iso
from listrak_kit.core.send_record import Attempt, ResendEntry, SendRecord

RESEND_KEY_INDEX = "byResendKey"
RECONCILE_INDEX = "byReconcileAt"
RECIPIENT_INDEX = "byRecipient"  # every send of one message to one address, by sentAt: Activity's candidates
RECONCILE_QUEUE = "reconcileQueue"  # the index's partition key: one value, present only while unsettled
_QUEUE_VALUE = "send"
_UNSETTLED_ONLY = ("payload", "reconcileAt", RECONCILE_QUEUE)


RECIPIENT = "recipient"
ACTIVITY_MODEL_ID = "send# activity"


def recipient_of(list_id: int, transactional_message_id: int, fingerprint: str) -> str:
    return f"{list_id}/{transactional_message_id}/{fingerprint}"


def _conditional_failed(exc: ClientError) -> bool:
    return exc.response["Error"]["Code"] == "ConditionalCheckFailedException"


class DynamoSendRecords:
    def __init__(self, table_name: str):
        self._table = table_name

    @staticmethod
    def item_id(reference: str) -> str:
        return f"send#{reference}"

    # -- the send's state machine ----------------------------------------------------------------------

    def begin(self, record: SendRecord) -> bool:
        """Write 1: the item in `sending`, only if the reference is new. False when it exists already."""
        item: dict[str, Any] = {k: v for k, v in record.model_dump().items() if v is not None and k != "attempts"}
        if item["channel"] == "email":  # the default, left out: an email's item is as it always was
            del item["channel"]
        item["attempts"] = {str(a.n): a.model_dump(exclude_none=True) for a in record.attempts}
        item[KEY] = self.item_id(record.reference)
        item[RECIPIENT] = recipient_of(record.listId, record.transactionalMessageId, record.emailFingerprint)
        if record.reconcileAt is not None:
            item[RECONCILE_QUEUE] = _QUEUE_VALUE
        item[TTL_ATTRIBUTE] = int(from_iso(record.resendableUntil))
        try:
            aws_client("dynamodb").put_item(
                TableName=self._table,
                Item={k: to_attribute(v) for k, v in item.items()},
                ConditionExpression="attribute_not_exists(#id)",
                ExpressionAttributeNames={"#id": KEY},
            )
        except ClientError as exc:
            if _conditional_failed(exc):
                return False
            raise
        return True

    def settle_sent(
        self, reference: str, token: str, n: int, *, resend_key: str | None, outcome: str, resolved_by: str
    ) -> None:
        """Write 2: `sent`; the payload and the reconcile marker go."""
        sets: dict[str, Any] = {"status": "sent", f"attempts.{n}.resolvedBy": resolved_by}
        if outcome:
            sets[f"attempts.{n}.outcome"] = outcome
        if resend_key:
            sets["resendKey"] = resend_key
        self._update(reference, token, sets, (*_UNSETTLED_ONLY, "failure"))

    def mark_pending(self, reference: str, token: str, n: int, *, outcome: str, detail: str, reconcile_at: int) -> None:
        sets = {
            "status": "pending",
            f"attempts.{n}.outcome": outcome,
            f"attempts.{n}.detail": detail,
            "reconcileAt": reconcile_at,
        }
        self._update(reference, token, sets, ())

    def mark_unconfirmed(self, reference: str, token: str, n: int, *, reason: str, reconcile_at: int) -> None:
        sets = {"status": "unconfirmed", "failure": reason, f"attempts.{n}.detail": reason, "reconcileAt": reconcile_at}
        self._update(reference, token, sets, ())

    def operator_settle(self, reference: str, token: str, n: int, *, sent: bool, now: int) -> None:
        """An operator's word on an unconfirmed send: it went (`sent`), or it did not (sent again, once, by the
        reconciler at its next run)."""
        if sent:
            self.settle_sent(reference, token, n, resend_key=None, outcome="", resolved_by="operator")
            return
        self._update(reference, token, {"status": "pending", "sendAgain": True, "reconcileAt": now}, ("failure",))

    def settle_failed(self, reference: str, token: str, *, failure: str, n: int, outcome: str | None = None) -> None:
        sets: dict[str, Any] = {"status": "failed", "failure": failure}
        if outcome:
            sets[f"attempts.{n}.outcome"] = outcome
        self._update(reference, token, sets, _UNSETTLED_ONLY)

    def settle_once(
        self, reference: str, token: str, n: int, *, status: str, outcome: str, failure: str | None = None
    ) -> None:
        """An at-most-once send (SMS) settled from its one answer: `sent`, `skipped` or `unconfirmed`, never to be
        attempted again, so the payload (the number and text) goes whatever the outcome."""
        sets: dict[str, Any] = {"status": status, f"attempts.{n}.outcome": outcome}
        if failure:
            sets["failure"] = failure
            sets[f"attempts.{n}.detail"] = failure
        else:
            sets[f"attempts.{n}.resolvedBy"] = "answer"
        self._update(reference, token, sets, _UNSETTLED_ONLY)

    def release(self, reference: str, token: str) -> None:
        """Listrak proved nothing was sent: the reference is free again (only if this attempt still holds it)."""
        try:
            aws_client("dynamodb").delete_item(
                TableName=self._table,
                Key={KEY: {"S": self.item_id(reference)}},
                ConditionExpression="attemptToken = :token AND #status = :sending",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":token": {"S": token}, ":sending": {"S": "sending"}},
            )
        except ClientError as exc:
            if not _conditional_failed(exc):
                raise

    def claim(self, reference: str, reconcile_at: int | None, until: int) -> bool:
        """Takes the send for reconciliation until `until`; False when another reconciler took it first."""
        try:
            aws_client("dynamodb").update_item(
                TableName=self._table,
                Key={KEY: {"S": self.item_id(reference)}},
                UpdateExpression="SET reconcileAt = :until",
                ConditionExpression="reconcileAt = :seen",
                ExpressionAttributeValues={":until": {"N": str(until)}, ":seen": to_attribute(reconcile_at)},
            )
        except ClientError as exc:
            if _conditional_failed(exc):
                return False
            raise
        return True

    def new_attempt(
        self, reference: str, token: str, *, new_token: str, attempt: Attempt, previous: int, sent_at: str
    ) -> None:
        """Closes the previous attempt as resolved by sending again, and opens the next one."""
        sets = {
            "status": "sending",
            "attemptToken": new_token,
            "sentAt": sent_at,
            f"attempts.{previous}.resolvedBy": "resend",
            f"attempts.{attempt.n}": attempt.model_dump(exclude_none=True),
        }
        self._update(reference, token, sets, ("failure", "sendAgain"))

    def due(self, now: int, limit: int) -> list[str]:
        """References whose reconcile time has come, oldest first."""
        answer = aws_client("dynamodb").query(
            TableName=self._table,
            IndexName=RECONCILE_INDEX,
            KeyConditionExpression="#queue = :queue AND reconcileAt <= :now",
            ExpressionAttributeNames={"#queue": RECONCILE_QUEUE},
            ExpressionAttributeValues={":queue": {"S": _QUEUE_VALUE}, ":now": {"N": str(now)}},
            Limit=limit,
        )
        return [item[KEY]["S"].removeprefix("send#") for item in answer.get("Items") or []]

    def _update(self, reference: str, token: str, sets: dict[str, Any], removes: tuple[str, ...]) -> None:
        names: dict[str, str] = {}
        values: dict[str, Any] = {":token": {"S": token}}

        def path(dotted: str) -> str:
            parts = []
            for part in dotted.split("."):
                alias = f"#n{len(names)}"
                names[alias] = part
                parts.append(alias)
            return ".".join(parts)

        clauses = []
        for i, (name, value) in enumerate(sets.items()):
            values[f":v{i}"] = to_attribute(value)
            clauses.append(f"{path(name)} = :v{i}")
        expression = "SET " + ", ".join(clauses)
        if removes:
            expression += " REMOVE " + ", ".join(path(name) for name in removes)
        aws_client("dynamodb").update_item(
            TableName=self._table,
            Key={KEY: {"S": self.item_id(reference)}},
            UpdateExpression=expression,
            # The attempt that holds the send: a late or repeated write of an older attempt changes nothing.
            ConditionExpression="attemptToken = :token",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    # -- what Activity has been seen to do (one item; a reference has no space, so it is no send's) -------

    def activity_model(self) -> dict[str, Any] | None:
        answer = aws_client("dynamodb").get_item(TableName=self._table, Key={KEY: {"S": ACTIVITY_MODEL_ID}})
        item = answer.get("Item")
        return {k: from_attribute(v) for k, v in item.items() if k != KEY} if item else None

    def save_activity_model(self, model: dict[str, Any]) -> None:
        item = {KEY: {"S": ACTIVITY_MODEL_ID}, **{k: to_attribute(v) for k, v in model.items() if v is not None}}
        aws_client("dynamodb").put_item(TableName=self._table, Item=item)

    def open_probe(self, probe: dict[str, Any]) -> bool:
        """Starts measuring Activity's lag on one accepted send; False when a probe is open already."""
        try:
            aws_client("dynamodb").update_item(
                TableName=self._table,
                Key={KEY: {"S": ACTIVITY_MODEL_ID}},
                UpdateExpression="SET probe = :probe",
                ConditionExpression="attribute_not_exists(probe)",
                ExpressionAttributeValues={":probe": to_attribute(probe)},
            )
        except ClientError as exc:
            if _conditional_failed(exc):
                return False
            raise
        return True

    # -- reads and the resend path -------------------------------------------------------------------

    def get(self, reference: str) -> SendRecord | None:
        answer = aws_client("dynamodb").get_item(
            TableName=self._table, Key={KEY: {"S": self.item_id(reference)}}, ConsistentRead=True
        )
        return self._record(answer.get("Item"))

    def find_by_resend_key(self, resend_key: str) -> SendRecord | None:
        answer = aws_client("dynamodb").query(
            TableName=self._table,
            IndexName=RESEND_KEY_INDEX,
            KeyConditionExpression="resendKey = :key",
            ExpressionAttributeValues={":key": {"S": resend_key}},
            Limit=1,
        )
        items = answer.get("Items") or []
        return self._record(items[0]) if items else None

    def by_recipient(
        self, list_id: int, transactional_message_id: int, fingerprint: str, since: str
    ) -> list[SendRecord]:
        """Every send of this message to this address whose latest attempt started at `since` or later."""
        records: list[SendRecord] = []
        arguments: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": RECIPIENT_INDEX,
            "KeyConditionExpression": "#recipient = :recipient AND sentAt >= :since",
            "ExpressionAttributeNames": {"#recipient": RECIPIENT},
            "ExpressionAttributeValues": {
                ":recipient": {"S": recipient_of(list_id, transactional_message_id, fingerprint)},
                ":since": {"S": since},
            },
        }
        while True:
            answer = aws_client("dynamodb").query(**arguments)
            records.extend(r for item in answer.get("Items") or [] if (r := self._record(item)) is not None)
            if "LastEvaluatedKey" not in answer:
                return records
            arguments["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def set_resend_key(self, reference: str, resend_key: str) -> None:
        aws_client("dynamodb").update_item(
            TableName=self._table,
            Key={KEY: {"S": self.item_id(reference)}},
            UpdateExpression="SET resendKey = :key",
            ConditionExpression="attribute_exists(#id)",
            ExpressionAttributeNames={"#id": KEY},
            ExpressionAttributeValues={":key": {"S": resend_key}},
        )

    def add_resend(self, reference: str, entry: ResendEntry) -> int:
        """Appends to the record's resend history; returns the new count."""
        answer = aws_client("dynamodb").update_item(
            TableName=self._table,
            Key={KEY: {"S": self.item_id(reference)}},
            UpdateExpression=(
                "SET resendCount = if_not_exists(resendCount, :zero) + :one, "
                "resends = list_append(if_not_exists(resends, :none), :entry)"
            ),
            ConditionExpression="attribute_exists(#id)",
            ExpressionAttributeNames={"#id": KEY},
            ExpressionAttributeValues={
                ":zero": {"N": "0"},
                ":one": {"N": "1"},
                ":none": {"L": []},
                ":entry": {"L": [to_attribute(entry.model_dump())]},
            },
            ReturnValues="UPDATED_NEW",
        )
        return int(answer["Attributes"]["resendCount"]["N"])

    def take_redirect(self, reference: str, *, now: float, window_seconds: int, limit: int) -> float | None:
        """A fixed-window counter on the send item, by conditional updates (safe under concurrency).

        Returns None when one redirect was taken, else the start of the window whose allowance is spent.
        """
        if limit < 1:
            return now
        key = {KEY: {"S": self.item_id(reference)}}
        names = {"#id": KEY, "#start": "redirectWindowStart", "#count": "redirectCount"}
        cutoff = {"N": str(now - window_seconds)}
        attempts = (
            # within the current window, below the limit
            (
                "SET #count = #count + :one",
                "attribute_exists(#id) AND #start > :cutoff AND #count < :limit",
                {":one": {"N": "1"}, ":cutoff": cutoff, ":limit": {"N": str(limit)}},
            ),
            # no window yet, or it has passed: this redirect opens a new one
            (
                "SET #start = :now, #count = :one",
                "attribute_exists(#id) AND (attribute_not_exists(#start) OR #start <= :cutoff)",
                {":one": {"N": "1"}, ":cutoff": cutoff, ":now": {"N": repr(now)}},
            ),
        )
        client = aws_client("dynamodb")
        old: dict[str, Any] = {}
        for update, condition, values in (*attempts, attempts[0]):  # a peer may have just opened the window
            try:
                client.update_item(
                    TableName=self._table,
                    Key=key,
                    UpdateExpression=update,
                    ConditionExpression=condition,
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=values,
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
                return None
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise
                old = exc.response.get("Item") or old
        start = old.get("redirectWindowStart", {}).get("N")
        return float(start) if start else now

    @staticmethod
    def _record(item: dict[str, Any] | None) -> SendRecord | None:
        if not item:
            return None
        hidden = (KEY, TTL_ATTRIBUTE, RECONCILE_QUEUE, RECIPIENT)
        values = {k: from_attribute(v) for k, v in item.items() if k not in hidden}
        attempts = values.get("attempts")
        if isinstance(attempts, dict):
            values["attempts"] = sorted(attempts.values(), key=lambda a: a["n"])
        return SendRecord.model_validate(values)
