"""Fault-injection harness: run `python -m pipeline run` under faults, rerun, count the damage.

Each scenario gets a fresh folder (config, SQLite store, 3 daily subscribers and a weekly one),
a local HTTP server serving the recorded Hugging Face week (tests/data/hf/week) and an aiosmtpd
sink, both on 127.0.0.1 and both scriptable. The runs happen on the Monday after that week, so
the five settled daily editions and the week's edition are mailed. It runs `paperboy run` as
subprocesses with the fault switched on (HTTP 500/429/drip/truncated/garbled charset, a source
that hangs or drops connections, a FIFO and /dev/zero among saved pages, SMTP 4xx/5xx/drops,
kill -9 at a failpoint or at a random moment, two runs at once, a clock repeated or moved back),
then switches the fault off and reruns 40 minutes later (retry delays and the 15-minute lease
have passed). It then compares with a clean run (the oracle): papers lost, duplicate papers/feed
items/emails, emails missing without being reported, and `paperboy check` problems. Prints one
table.

    python scripts/fault_harness.py            # all scenarios, 20 random kills, 20 double starts
    python scripts/fault_harness.py --quick    # the CI subset (about a minute on 2 cores)
    python scripts/fault_harness.py --json     # also print the figures as JSON (for tests)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from lxml import etree  # noqa: E402
from sqlalchemy import text  # noqa: E402

from pipeline.store.engine import init_db, make_engine, read_session, write_session  # noqa: E402
from pipeline.store.integrity import check_store  # noqa: E402
from pipeline.store.subscribers import add_subscriber  # noqa: E402
from pipeline.topics import load_topics, topics_file  # noqa: E402
from tests.email_support import Sink, smtp_sink  # noqa: E402

WEEK = {
    date.fromisoformat(p.stem): p.read_bytes() for p in (REPO / "tests/data/hf/week").glob("*.json")
}
RUN_AT = datetime(2026, 8, 24, 9, 0, tzinfo=UTC)  # a Monday: the week 2026-W34 has settled
SUBSCRIBED = RUN_AT - timedelta(days=14)  # before the week: its editions are theirs
RERUN_AT = RUN_AT + timedelta(minutes=40)  # after the 30-min retry delay and 15-min lease
FAULT_DAY = date(2026, 8, 20)
SECRET = "harness-secret"
PEOPLE = ("ada@example.org", "bob@example.org", "cy@example.org")  # daily
WEEKLY = "wes@example.org"
RUN_TIMEOUT = 60.0
DEADLINE = 5.0  # [http] deadline of the scenarios' config, seconds
_TAG = re.compile(r"^tag:[^:]+:")


# --- the scriptable HTTP server -------------------------------------------------------------


@dataclass
class HttpFault:
    """What the server does wrong while ``on``: mode, for which day, how often."""

    mode: str = "none"  # none | 500 | 429 | drip | truncated | garbled | shorter | hang | drop
    times: int = 10**6  # faulty answers to serve at most
    on: bool = True
    served: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, day: date) -> str:
        with self.lock:
            if not self.on or self.mode == "none" or self.served >= self.times:
                return "none"
            if self.mode in ("drip", "truncated", "garbled") and day != FAULT_DAY:
                return "none"
            if self.mode == "shorter" and day != max(WEEK):  # the last day: fetched every run
                return "none"
            self.served += 1
            return self.mode


def _handler(fault: HttpFault) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            query = parse_qs(urlsplit(self.path).query)
            day = date.fromisoformat(query["date"][0])
            body = WEEK.get(day, b"[]") if "p" not in query else b"[]"
            mode = fault.take(day)
            if mode == "hang":  # accept, read the request, never answer (issue 15.7)
                stop = time.monotonic() + RUN_TIMEOUT
                while fault.on and time.monotonic() < stop:
                    time.sleep(0.1)
                self.close_connection = True
                return
            if mode == "drop":  # close without a status line (a dead backend behind a proxy)
                self.close_connection = True
                return
            if mode == "drip":  # status line, then one header byte every 0.2 s
                try:
                    self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                    for _ in range(100):
                        time.sleep(0.2)
                        self.wfile.write(b"a")
                        self.wfile.flush()
                except OSError:  # the client gave up: that is the point
                    pass
                self.close_connection = True
                return
            status, headers = 200, {"Content-Type": "application/json"}
            if mode == "500":
                status, body = 500, b"oops"
            elif mode == "429":
                status, body = 429, b"slow down"
                headers["RateLimit"] = '"api";r=0;t=1'
            elif mode == "garbled":  # a cp1252 byte in a body served as JSON
                body = body.replace(b'"title": "', b'"title": "R\xe9sum\xe9 ', 1)
            elif mode == "shorter":  # a valid list of the last day's first 3 papers: the list as
                # it was earlier (HF adds papers all day); the rerun fetches the day again and
                # gets it whole: two pages of one date, of different sizes (issue 15.1)
                body = json.dumps(json.loads(body)[:3]).encode()
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            declared = len(body) + (500 if mode == "truncated" else 0)
            self.send_header("Content-Length", str(declared))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2] if mode == "truncated" else body)
            if mode == "truncated":
                self.close_connection = True

        def log_message(self, *_args: object) -> None:
            pass

    return Handler


# --- the scriptable SMTP sink ---------------------------------------------------------------


@dataclass
class FaultSink(Sink):
    """The tests' sink plus: drop the connection at RCPT of the k-th message; a fault switch."""

    drop_at_rcpt: set[int] = field(default_factory=set)
    rcpt_count: int = 0
    faults: int = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.rcpt_count += 1
        if self.rcpt_count in self.drop_at_rcpt:
            self.faults += 1
            server.transport.close()
            return "421 closing"
        if address in self.rcpt_replies:
            self.faults += 1
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)

    async def handle_DATA(self, server, session, envelope):
        number = self.data_count + 1
        if number in self.data_replies or number in self.drop_after_storing:
            self.faults += 1
        return await super().handle_DATA(server, session, envelope)

    def heal(self) -> None:
        self.rcpt_replies.clear()
        self.data_replies.clear()
        self.drop_after_storing.clear()
        self.drop_at_rcpt.clear()


# --- one scenario ---------------------------------------------------------------------------


@dataclass
class Outcome:
    """What one scenario found."""

    name: str
    kind: str
    faults: int = 0
    codes: list[int] = field(default_factory=list)
    dup_papers: int = 0
    dup_items: int = 0
    dup_emails: int = 0
    lost_papers: int = 0
    missing_items: int = 0
    missing_emails: int = 0  # neither received nor reported (uncertain/failed)
    uncertain: int = 0  # reported uncertain (the sink may or may not hold them)
    failed: int = 0  # reported failed (permanent 5xx) or skipped (subscriber bouncing)
    integrity: int = 0
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    state: dict[str, object] = field(default_factory=dict)


@dataclass
class Scenario:
    name: str
    kind: str
    http: HttpFault = field(default_factory=HttpFault)
    prepare_sink: Callable[[FaultSink], None] | None = None
    first: str = "run"  # run | kill_random | concurrent | clock_repeat | clock_back
    failpoint: str = ""  # one failpoint, or several separated by "," (one run each)
    # an unreachable source: the first run must take about one deadline and say so once
    unreachable: bool = False
    special_files: bool = False  # a FIFO and /dev/zero in the files source's folder


class Bench:
    """A scenario's folder, servers and subprocess runs."""

    def __init__(self, root: Path, http_port: int, smtp_port: int) -> None:
        self.root = root
        self.config = root / "paperboy.toml"
        self.config.write_text(
            '[output]\nsite_url = "https://papers.example.org/"\n'
            "[ingest]\ncatch_up_max_days = 8\n"
            f'[http]\nhf_base_url = "http://127.0.0.1:{http_port}"\n'
            f"allow_private_hosts = true\ntimeout = 1.0\ndeadline = {DEADLINE}\nretries = 2\n"
            f'[email]\nsmtp_url = "smtp://127.0.0.1:{smtp_port}"\n'
            'sender = "paperboy <digest@example.org>"\n'
            '[[sources]]\nname = "hf-daily"\nkind = "hf-api"\n'
            '[[sources]]\nname = "inbox"\nkind = "files"\npath = "inbox"\n',
            encoding="utf-8",
        )
        (root / "inbox").mkdir()  # a files source, empty unless a scenario drops files in
        engine = make_engine(f"sqlite:///{root / 'data' / 'paperboy.db'}")
        init_db(engine)
        slugs = [t.slug for t in load_topics(topics_file(None))]
        with write_session(engine) as session:
            for person in (*PEOPLE, WEEKLY):
                add_subscriber(session=session, email=person, topics=slugs,
                               secret=SECRET.encode(), now=SUBSCRIBED,
                               frequency="weekly" if person == WEEKLY else "daily")  # fmt: skip
        engine.dispose()

    def env(self, now: datetime, failpoint: str = "") -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERBOY_")}
        env.update(PAPERBOY_NOW=now.isoformat(), PAPERBOY_SECRET=SECRET,
                   PAPERBOY_CONFIG=str(self.config), PYTHONPATH=str(REPO))  # fmt: skip
        if failpoint:
            env["PAPERBOY_FAILPOINT"] = failpoint
        return env

    def start(self, now: datetime, failpoint: str = "") -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "pipeline", "run"], cwd=self.root, env=self.env(now, failpoint),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip

    def run(self, now: datetime, failpoint: str = "") -> tuple[int, str]:
        proc = self.start(now, failpoint)
        out, err = proc.communicate(timeout=RUN_TIMEOUT)
        return proc.returncode, out + err


def _feeds(folder: Path) -> dict[str, list[str]]:
    found = {}
    for path in sorted(folder.glob("*.xml")) + sorted(folder.glob("*.atom")):
        root = etree.fromstring(path.read_bytes())
        ids = root.xpath(
            "//item/guid/text() | //*[local-name()='entry']/*[local-name()='id']/text()"
        )
        # the tagging entity is random per store: compare what follows it
        found[path.name] = [_TAG.sub("tag:", str(i)) for i in ids]
    return found


def measure(bench: Bench, sink: FaultSink) -> dict[str, object]:
    """The state to compare with the oracle."""
    engine = make_engine(f"sqlite:///{bench.root / 'data' / 'paperboy.db'}")
    try:
        with read_session(engine) as session:
            papers = [r[0] for r in session.execute(text("SELECT key FROM paper"))]
            arxiv = [r[0] for r in session.execute(text(
                "SELECT arxiv_id FROM paper WHERE arxiv_id IS NOT NULL"))]  # fmt: skip
            rows = {r[0]: r[1] for r in session.execute(text(
                "SELECT message_id, state FROM outbox"))}  # fmt: skip
            problems = check_store(session=session)
            bouncing = {r[0] for r in session.execute(text(
                "SELECT email FROM subscriber WHERE status <> 'active'"))}  # fmt: skip
    finally:
        engine.dispose()
    feed_dir = bench.root / "out" / "feeds"
    opml = (feed_dir / "index.opml").read_text() if (feed_dir / "index.opml").exists() else ""
    return {
        "papers": papers,
        "dup_arxiv": len(arxiv) - len(set(arxiv)),
        "outbox": rows,
        "problems": problems + (["temp file in index.opml"] if ".paperboy-" in opml else []),
        "feeds": _feeds(feed_dir) if feed_dir.is_dir() else {},
        "received": sink.message_ids(),
        "to": {str(m["Message-ID"]): str(m["To"]) for m in sink.messages},
        "bouncing": sorted(bouncing),
    }


def compare(result: Outcome, oracle: dict[str, object]) -> None:
    """Fill the damage counts of ``result`` from its state and the oracle's."""
    got = result.state
    result.lost_papers = len(set(oracle["papers"]) - set(got["papers"]))  # type: ignore[arg-type]
    result.dup_papers = int(got["dup_arxiv"]) + len(got["papers"]) - len(set(got["papers"]))  # type: ignore[arg-type]
    feeds, want = got["feeds"], oracle["feeds"]
    for name, ids in want.items():  # type: ignore[union-attr]
        have = feeds.get(name, [])  # type: ignore[union-attr]
        result.missing_items += len(set(ids) - set(have))
    result.dup_items = sum(len(ids) - len(set(ids)) for ids in feeds.values())  # type: ignore[union-attr]
    received = Counter(got["received"])  # type: ignore[arg-type]
    result.dup_emails = sum(n - 1 for n in received.values())
    outbox = got["outbox"]
    result.uncertain = sum(1 for s in outbox.values() if s == "uncertain")  # type: ignore[union-attr]
    # failed (5xx) and skipped (the subscriber was flagged bouncing by a 5.1.x reply): reported
    result.failed = sum(1 for s in outbox.values() if s in ("failed", "skipped"))  # type: ignore[union-attr]
    reported = {m for m, s in outbox.items() if s in ("uncertain", "failed", "skipped")}  # type: ignore[union-attr]
    # a subscriber flagged bouncing (5.1.x) gets no further digests: that is reported, not lost
    gone = set(got["bouncing"])  # type: ignore[arg-type]
    expected = {m for m, to in oracle["to"].items() if to not in gone}  # type: ignore[union-attr]
    result.missing_emails = len(expected - set(received) - reported)
    result.integrity = len(got["problems"])  # type: ignore[arg-type]
    result.notes.extend(got["problems"])  # type: ignore[arg-type]


def play(scenario: Scenario, oracle_seconds: float, seed: int) -> Outcome:
    """Run one scenario in its own folder with its own servers."""
    result = Outcome(scenario.name, scenario.kind)
    started = time.monotonic()
    rng = random.Random(seed)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(scenario.http))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sink = FaultSink()
    if scenario.prepare_sink:
        scenario.prepare_sink(sink)
    try:
        with tempfile.TemporaryDirectory(prefix="paperboy-fault-") as tmp, smtp_sink(sink) as port:
            bench = Bench(Path(tmp), server.server_address[1], port)
            _first_phase(scenario, bench, result, rng, oracle_seconds)
            scenario.http.on = False
            sink.heal()
            code, output = bench.run(RERUN_AT)
            result.codes.append(code)
            if code != 0 and "uncertain" not in output and "failed" not in output:
                result.notes.append(f"rerun exit {code}: {output[-300:]}")
            result.state = measure(bench, sink)
    finally:
        server.shutdown()
        server.server_close()
    result.faults += scenario.http.served + sink.faults
    result.seconds = time.monotonic() - started
    return result


def _first_phase(
    scenario: Scenario, bench: Bench, result: Outcome, rng: random.Random, oracle_seconds: float
) -> None:
    if scenario.first == "kill_random":
        proc = bench.start(RUN_AT)
        time.sleep(rng.uniform(max(0.3, 0.4 * oracle_seconds), oracle_seconds))
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=RUN_TIMEOUT)
        result.codes.append(proc.returncode)
        result.faults += 1
    elif scenario.first == "concurrent":
        procs = [bench.start(RUN_AT), bench.start(RUN_AT)]
        outs = [p.communicate(timeout=RUN_TIMEOUT) for p in procs]
        result.codes.extend(p.returncode for p in procs)
        locked = sum("holds the lock" in err for _out, err in outs)
        worked = sum("run done:" in out for out, _err in outs)
        result.faults += 1
        if locked + worked != 2 or worked < 1:
            result.notes.append(f"concurrent: {worked} worked, {locked} refused by the lock")
    elif scenario.first == "clock_repeat":  # the DST fall-back double fire: same day, +1 h
        for now in (RUN_AT, RUN_AT + timedelta(hours=1)):
            result.codes.append(bench.run(now)[0])
        result.faults += 1
    elif scenario.first == "clock_back":  # the clock jumps a day back, then forward again
        for now in (RUN_AT, RUN_AT - timedelta(days=1)):
            result.codes.append(bench.run(now)[0])
        result.faults += 1
    elif scenario.first == "clock_all":  # repeated hour, then a day back
        for now in (RUN_AT, RUN_AT + timedelta(hours=1), RUN_AT - timedelta(days=1)):
            result.codes.append(bench.run(now)[0])
        result.faults += 2
    elif scenario.unreachable:  # one deadline for the source, not one per catch-up day
        begun = time.monotonic()
        code, output = bench.run(RUN_AT)
        took = time.monotonic() - begun
        result.codes.append(code)
        errors = [line for line in output.splitlines() if line.startswith("Error: hf-daily")]
        result.faults += 1
        if took > 2 * DEADLINE + 10 or len(errors) != 1 or "skipped for this run" not in output:
            result.notes.append(f"unreachable: {took:.0f} s, {len(errors)} error line(s)")
    elif scenario.special_files:  # refused at once with a clear line, never read or waited on
        inbox = bench.root / "inbox"
        os.mkfifo(inbox / "2026-08-20.txt")
        (inbox / "2026-08-21.txt").symlink_to("/dev/zero")
        code, output = bench.run(RUN_AT)
        result.codes.append(code)
        result.faults += 2
        refused = output.count("not a regular file")
        for name in ("2026-08-20.txt", "2026-08-21.txt"):
            (inbox / name).unlink()
        if code != 1 or refused != 2:
            result.notes.append(f"special files: exit {code}, {refused} refused")
    elif scenario.failpoint:
        for point in scenario.failpoint.split(","):  # crash again and again, then rerun
            code, _output = bench.run(RUN_AT, point)
            result.codes.append(code)
            result.faults += int(code == 137)
            if code != 137:
                result.notes.append(f"failpoint {point} not reached (exit {code})")
    else:
        result.codes.append(bench.run(RUN_AT)[0])


# --- the scenario list and the table --------------------------------------------------------


def _rcpt(reply: str, who: str = "bob@example.org") -> Callable[[FaultSink], None]:
    return lambda sink: sink.rcpt_replies.update({who: reply})


def scenarios(quick: bool) -> list[Scenario]:
    """The scenarios; --quick keeps one of each kind of fault."""
    kills = 1 if quick else 20
    doubles = 1 if quick else 20
    chosen = [
        Scenario("http 500 x2 then 200", "http", HttpFault("500", times=2)),
        Scenario("http 429 RateLimit t=1", "http", HttpFault("429", times=1)),
        Scenario("http headers drip (deadline)", "http", HttpFault("drip")),
        Scenario("http truncated body", "http", HttpFault("truncated")),
        Scenario("http garbled charset", "http", HttpFault("garbled")),
        Scenario("http day's list shorter, then whole", "http", HttpFault("shorter")),
        Scenario("http source hangs (unreachable)", "http", HttpFault("hang"), unreachable=True),
        Scenario("http connection dropped", "http", HttpFault("drop"), unreachable=True),
        Scenario("files: FIFO and /dev/zero", "files", special_files=True),
        Scenario("smtp RCPT 450", "smtp", prepare_sink=_rcpt("450 4.2.1 try later")),
        Scenario("smtp RCPT 550", "smtp", prepare_sink=_rcpt("550 5.1.1 no such user")),
        Scenario("smtp DATA 421", "smtp",
                 prepare_sink=lambda s: s.data_replies.update({3: "421 4.3.0 closing"})),
        Scenario("smtp drop before DATA", "smtp",
                 prepare_sink=lambda s: s.drop_at_rcpt.update({2})),
        Scenario("smtp drop after DATA", "smtp",
                 prepare_sink=lambda s: s.drop_after_storing.update({2})),
        Scenario("kill at before_ingest_commit", "kill", failpoint="before_ingest_commit:2"),
        Scenario("kill at before_plan_commit", "kill", failpoint="before_plan_commit:2"),
        Scenario("kill at after_claim", "kill", failpoint="after_claim:3"),
        Scenario("kill at after_send", "kill", failpoint="after_send:2"),
        Scenario("kill at mid_feed_write", "kill", failpoint="mid_feed_write:2"),
        Scenario("clock repeated hour (DST)", "clock", first="clock_repeat"),
        Scenario("clock moved back a day", "clock", first="clock_back"),
    ]  # fmt: skip
    if quick:  # fewer runs: several faults per scenario
        every = ",".join(["before_ingest_commit:2", "mid_feed_write:2", "before_plan_commit:2",
                          "after_claim:3", "after_send:2"])  # fmt: skip
        both = HttpFault("500", times=2)
        kept = ("http headers drip (deadline)", "smtp drop after DATA",
                "http source hangs (unreachable)", "files: FIFO and /dev/zero")  # fmt: skip
        chosen = [s for s in chosen if s.name in kept]
        chosen += [
            Scenario("http 500 x2 + smtp RCPT 450", "http+smtp", both,
                     prepare_sink=_rcpt("450 4.2.1 try later")),
            Scenario("kill at each failpoint in turn", "kill", failpoint=every),
            Scenario("clock repeated hour, then back", "clock", first="clock_all"),
        ]  # fmt: skip
    chosen += [
        Scenario(f"kill -9 random #{n + 1}", "kill", first="kill_random") for n in range(kills)
    ]
    chosen += [Scenario(f"two runs at once #{n + 1}", "concurrency", first="concurrent")
               for n in range(doubles)]  # fmt: skip
    return chosen


COLUMNS = ("faults", "dup papers", "dup items", "dup emails", "lost papers", "missing items",
           "missing emails", "uncertain", "failed/skipped", "integrity")  # fmt: skip


def _row(r: Outcome) -> list[int]:
    return [r.faults, r.dup_papers, r.dup_items, r.dup_emails, r.lost_papers, r.missing_items,
            r.missing_emails, r.uncertain, r.failed, r.integrity]  # fmt: skip


def table(results: list[Outcome]) -> str:
    """Markdown table: one row per kind of fault, then the total."""
    kinds: dict[str, list[int]] = {}
    counts: Counter[str] = Counter()
    for r in results:
        row = _row(r)
        kinds[r.kind] = [a + b for a, b in zip(kinds.get(r.kind, [0] * len(row)), row, strict=True)]
        counts[r.kind] += 1
    total = [sum(col) for col in zip(*kinds.values(), strict=True)]
    lines = [
        "| kind | scenarios | " + " | ".join(COLUMNS) + " |",
        "|---" * (len(COLUMNS) + 2) + "|",
    ]
    for kind, row in [*kinds.items(), ("**total**", total)]:
        n = counts[kind] if kind in counts else sum(counts.values())
        lines.append(f"| {kind} | {n} | " + " | ".join(map(str, row)) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the scenarios, print per-scenario lines and the table; exit 1 on any damage."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="the CI subset")
    parser.add_argument("--json", action="store_true", help="also print the results as JSON")
    parser.add_argument("--jobs", type=int, default=2, help="scenarios run in parallel")
    parser.add_argument("--seed", type=int, default=20261123)
    args = parser.parse_args(argv)
    started = time.monotonic()
    oracle_result = play(Scenario("oracle (no fault)", "none"), 0.0, args.seed)
    oracle, oracle_seconds = oracle_result.state, time.monotonic() - started
    if not oracle["received"] or not oracle["papers"] or oracle_result.codes != [0, 0]:
        print(f"oracle run failed: {oracle_result.codes} {oracle_result.notes}", file=sys.stderr)
        return 2
    chosen = scenarios(args.quick)
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(
            lambda pair: play(pair[1], oracle_seconds / 2, args.seed + pair[0]), enumerate(chosen)
        ))  # fmt: skip
    for r in results:
        compare(r, oracle)
        damage = dict(zip(COLUMNS[1:7], _row(r)[1:7], strict=True))
        bad = {k: v for k, v in damage.items() if v}
        flag = f"  <-- {bad} {'; '.join(r.notes)}" if bad or r.integrity or r.notes else ""
        print(f"{r.name:34} {r.seconds:4.0f} s exits {r.codes} faults {r.faults} "
              f"uncertain {r.uncertain} "
              f"failed {r.failed}{flag}")  # fmt: skip
    print(f"\noracle: {len(oracle['papers'])} papers, {len(oracle['received'])} emails, "  # type: ignore[arg-type]
          f"{sum(len(v) for v in oracle['feeds'].values())} feed items; "  # type: ignore[union-attr]
          f"{len(results)} scenarios in {time.monotonic() - started:.0f} s\n")  # fmt: skip
    print(table(results))
    if args.json:
        rows = [{"name": r.name, "kind": r.kind, "codes": r.codes, "notes": r.notes,
                 **dict(zip(COLUMNS, _row(r), strict=True))} for r in results]  # fmt: skip
        print(json.dumps(rows))
    damage = any(any(_row(r)[1:7]) or r.integrity or r.notes for r in results)
    return 1 if damage else 0


if __name__ == "__main__":
    sys.exit(main())
