"""No token, client secret or whole email address in any log line of a full local run, faults included."""

from __future__ import annotations

import re

from local_stack import ROOT, run

EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


def test_a_full_local_run_logs_no_token_secret_or_whole_address(stack, sandbox, capsys):
    for old in stack.log_dir.glob("*.log"):
        old.unlink()
    run.seed_expired_send(stack)
    for path in sorted((ROOT / "events").glob("*.json")):
        run.run_sample(stack, path)
    sandbox.inject("*", "revoke_token")  # a refresh mid-run, and its logs
    run.run_sample(stack, ROOT / "events" / "eventbridge-4-reset-password.json")
    sandbox.inject("send", "slow", delay=1.5)  # an unknown outcome, and its logs
    stack.env_overrides["LISTRAK_READ_TIMEOUT"] = "0.5"
    stack.cold_start()
    run.run_sample(stack, ROOT / "events" / "eventbridge-5-created-account.json")
    lines = run.run_imports(stack)
    assert any("accepted" in line for line in lines)

    logs = "".join(path.read_text() for path in stack.log_dir.glob("*.log")) + capsys.readouterr().err
    assert logs.count("\n") > 50  # there is something to scan: every invocation logs
    secrets = [secret for _, secret in stack.credentials.values()] + sandbox.issued_tokens
    assert len(secrets) >= 3
    for secret in secrets:
        assert secret not in logs
    whole_addresses = [m.group(0) for m in EMAIL.finditer(logs)]
    assert whole_addresses == []
    assert "j***@example.com" in logs  # addresses appear masked, as designed
