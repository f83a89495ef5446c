"""`make bench`: every figure beside its floor, on loopback only. Prints a table, writes bench/results/latest.json,
and with --update-docs puts the table into docs/benchmarks.md with the machine it ran on."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from bench import cold_start, delivery, imports, package_sizes, token_economy, validation, warm_send
from bench.common import ROOT, machine

RESULTS = ROOT / "bench" / "results" / "latest.json"
DOC = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def verdict(ok: bool) -> str:
    return "meets target" if ok else "misses target"


def table(results: dict) -> str:
    rows = ["| Figure | Measured | Beside | Target | Status |", "| --- | --- | --- | --- | --- |"]
    cold = results["cold_start"]
    for name, figure in cold["handlers"].items():
        target = figure["target"]
        owners = ", ".join(f"{k} {v} ms" for k, v in figure["beyond_floor_cpu_ms_by_owner"].items())
        rows.append(
            f"| cold start: import `{name}` handler, CPU, tracing on (beyond the floor, by owner: {owners}) | "
            f"{figure['ms']} ms (without bytecode {figure['without_bytecode_ms']} ms, "
            f"{figure['without_bytecode_ratio']}x) | floor `import boto3, requests` {cold['floor_ms']} ms: "
            f"**{figure['ratio']}x** | {f'<= {target}x' if target else '-'} | "
            f"{verdict(figure['ratio'] <= target) if target else '-'} |"
        )
    if "tracer_load_ms" in cold:
        rows.append(
            f"| first sampled invocation: loading the Tracer (X-Ray SDK, botocore and requests patched), CPU | "
            f"{cold['tracer_load_ms']} ms | - | paid by no import; before the snapshot on SnapStart | - |"
        )
    warm = results["warm_send"]
    calls = warm["calls_per_send"]
    rows.append(
        f"| warm send, CPU per send, p50 / p99 ({warm['sends']} sends; AWS and Listrak answered in-process) | "
        f"{warm['cpu_p50_ms']} / {warm['cpu_p99_ms']} ms | the same calls made bare through botocore and "
        f"requests {warm['bare_cpu_p50_ms']} / {warm['bare_cpu_p99_ms']} ms: **{warm['ratio_p50']}x** | "
        f"<= {warm['target']}x | {verdict(warm['ratio_p50'] <= warm['target'])} |"
    )
    if shares := warm.get("cpu_shares_percent"):
        rows.append(
            "| warm send CPU by owner (profiled) | "
            + ", ".join(f"{name} {share}%" for name, share in sorted(shares.items(), key=lambda kv: -kv[1]))
            + " | - | - | - |"
        )
    if "dynamodb_writes_per_send" in warm:
        writes = warm["dynamodb_writes_per_send"]
        rows.append(
            f"| DynamoDB writes per warm send | {writes} | - | 2 (the send record is the idempotency record) | "
            f"{verdict(writes <= 2)} |"
        )
    ddb = {k.split(".")[1]: v for k, v in calls.items() if k.startswith("dynamodb.")}
    secrets = sum(v for k, v in calls.items() if k.startswith("secretsmanager."))
    rows.append(
        f"| calls per warm send | Listrak send {calls['listrak.send']}, token {calls['listrak.token']}, "
        f"Secrets Manager {secrets}, DynamoDB {', '.join(f'{k} {v}' for k, v in ddb.items())} | - | "
        f"no token, no secret | {verdict(calls['listrak.token'] == 0 and secrets == 0)} |"
    )
    economy = results["token_economy"]
    rows.append(
        f"| token economy: {economy['containers']} cold containers, {economy['sends']} sends | "
        f"{economy['tokens_minted']} token minted, {economy['secret_versions_written']} secret version written | "
        f"token 5 min from expiry at start | 1 and 1 | "
        f"{verdict(economy['tokens_minted'] == 1 and economy['secret_versions_written'] == 1)} |"
    )
    checks = results["validation"]
    rows.append(
        f"| import validation + serialisation, {checks['orders']:,} orders in one process | "
        f"{checks['ours']['records_per_second']:,} records/s (every record through the detailed models: "
        f"{checks['detailed']['records_per_second']:,}/s) | msgspec, same rules: "
        f"{checks['floor']['records_per_second']:,}/s: **{checks['ratio']}x** | <= {checks['target']}x, same bytes | "
        f"{verdict(checks['ratio'] <= checks['target'] and checks['same_bytes'])} |"
    )
    if poll := results.get("delivery"):
        calls = poll["activity_calls_per_run"]
        rows.append(
            f"| delivery poller, {poll['sends']:,} sends a day over {poll['messages']} messages, {poll['runs']} runs "
            f"every {poll['period_seconds']:g} s | Activity calls per run {calls['mean']} (max {calls['max']}), "
            f"{poll['activity_calls']:,} a day; CPU {poll['cpu_seconds']} s a day; DynamoDB {poll['dynamodb_reads']:,} "
            f"reads, {poll['dynamodb_writes']:,} writes | the same pages parsed bare {poll['floor_cpu_seconds']} s: "
            f"**{poll['ratio']}x** | every row matched, one event per change | "
            f"{verdict(poll['sends_with_delivery'] == poll['rows_with_activity'])} |"
        )
    runs = results["imports"]["runs"]
    peaks = [run["peak_mib"] for run in runs.values()]
    for count, run in runs.items():
        rows.append(
            f"| import {int(count):,} orders (3 items each, {run['file_mib']} MiB) | {run['records_per_second']:,} "
            f"records/s, {run['seconds']} s, peak {run['peak_mib']} MiB | - | flat memory | "
            f"{verdict(max(peaks) <= 1.25 * min(peaks))} |"
        )
    if ab := results["imports"].get("before_after"):
        fast, detailed = ab["fast path"], ab["detailed models only"]
        speedup = fast["records_per_second"] / detailed["records_per_second"]
        rows.append(
            f"| import {fast['records']:,} orders, fast path | {fast['records_per_second']:,} records/s | the same "
            f"file through the detailed models only {detailed['records_per_second']:,}/s: **{speedup:.1f}x** | "
            f">= {imports.TARGET_SPEEDUP:g}x | {verdict(speedup >= imports.TARGET_SPEEDUP)} |"
        )
    if e2e := results["imports"].get("end_to_end"):
        rows.append(
            f"| import end to end, {e2e['records']:,} orders ({e2e['chunks']} chunks; median of {e2e['rounds']}) | "
            f"{e2e['seconds']} s (CPU {e2e['cpu_seconds']} s) | the same I/O bare (read the object, parse, post the "
            f"same chunks to the same sandbox) {e2e['floor_seconds']} s (CPU {e2e['floor_cpu_seconds']} s): "
            f"**{e2e['ratio']}x** | <= {e2e['target']}x | {verdict(e2e['ratio'] <= e2e['target'])} |"
        )
    shares = results["imports"]["time_shares_percent"]
    rows.append(
        f"| import time shares ({results['imports']['profiled_records']:,} orders, profiled) | "
        + ", ".join(f"{name} {share}%" for name, share in sorted(shares.items(), key=lambda kv: -kv[1]))
        + " | - | JSON and validation dominate | "
        + verdict(
            shares["validation and serialisation"] + shares["JSON parse"]
            >= max(shares["our own code"], shares["other"])
        )
        + " |"
    )
    for name, size in results["package_sizes"].items():
        rows.append(
            f"| package `{name}` | {size['zipped_kib']:,} KiB zipped, {size['unzipped_kib']:,} KiB unzipped "
            "| - | - | - |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--update-docs", action="store_true", help="put the table into docs/benchmarks.md")
    parser.add_argument("--orders", type=int, nargs="*", default=list(imports.SIZES))
    parser.add_argument("--from-results", action="store_true", help="render bench/results/latest.json again")
    parser.add_argument("--only", choices=["warm_send", "cold_start"], help="measure one figure again; keep the others")
    args = parser.parse_args(argv)
    if args.from_results:
        return publish(json.loads(RESULTS.read_text()), update_docs=args.update_docs)

    from local_stack.stack import LocalStack

    if args.only:
        results = json.loads(RESULTS.read_text())
        results["date"] = time.strftime("%Y-%m-%d")
        print(f"{args.only} ...", flush=True)
        results[args.only] = {"warm_send": warm_send.measure, "cold_start": cold_start.measure}[args.only]()
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")
        return publish(results, update_docs=args.update_docs)

    results: dict = {"machine": machine(), "date": time.strftime("%Y-%m-%d")}
    print("cold start ...", flush=True)
    results["cold_start"] = cold_start.measure()
    print("validation ...", flush=True)
    results["validation"] = validation.measure()
    print("delivery poller ...", flush=True)
    results["delivery"] = delivery.measure()
    print("package sizes ...", flush=True)
    results["package_sizes"] = package_sizes.measure()
    print("warm send ...", flush=True)
    results["warm_send"] = warm_send.measure()
    # moto in its own process: the token-economy fleet would starve a server sharing this interpreter.
    server, url = token_economy.moto_process()
    os.environ.update(AWS_ENDPOINT_URL=url, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    try:
        with LocalStack() as stack:
            print("token economy ...", flush=True)
            results["token_economy"] = token_economy.measure(stack)
            print(f"imports {args.orders} ...", flush=True)
            results["imports"] = imports.measure(stack, tuple(args.orders))
            results["imports"]["before_after"] = imports.before_and_after(stack, min(args.orders))
            print("import end to end, beside its floor ...", flush=True)
            results["imports"]["end_to_end"] = imports.end_to_end(stack)
    finally:
        server.terminate()

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    return publish(results, update_docs=args.update_docs)


def publish(results: dict, *, update_docs: bool) -> int:
    rendered = table(results)
    print()
    print(rendered)
    from bench import chart

    chart.draw(results)
    print(f"\nratios drawn to {chart.PNG.relative_to(ROOT)}")
    if update_docs:
        info = results["machine"]
        block = (
            f"{START}\nMeasured {results['date']} on {info['cpu']}, {info['cores']} cores, {info['memory']}, "
            f"Python {info['python']} ({info['os']}); loopback only (moto and the Listrak sandbox; the warm send "
            "answered in-process).\n\n"
            f"{rendered}\n{END}"
        )
        doc = DOC.read_text() if DOC.exists() else ""
        if START in doc:
            head, rest = doc.split(START, 1)
            doc = head + block + rest.split(END, 1)[1]
        else:
            doc += f"# Benchmarks\n\n`make bench` measures these (results in `bench/results/latest.json`).\n\n{block}\n"
        DOC.write_text(doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
