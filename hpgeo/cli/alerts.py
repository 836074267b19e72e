"""``hpgeo alerts``: evaluate the rules on product items, list / show / cancel alerts, manage webhook
subscriptions, deliver the outbox (``deliver --loop`` runs as a service) and show / change the rule set
(``rules show|set FILE|history``: versioned in the database like ``PUT /alerts/rules``, audited)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Optional

import typer
from rich.table import Table

from base.errors import InvalidRequest
from hpgeo.cli.common import console, open_catalog

log = logging.getLogger("hpgeo.alerts")
app = typer.Typer(help="Alerts: CAP 1.2 messages from product statistics, Atom feed, signed webhooks.", no_args_is_help=True)


def _ctx(rules_file: Path | None = None, sender: str | None = None) -> tuple[Any, Any, Any, Any]:
    """(settings, catalog, store, rules): the rules of ``rules_file`` if given, else the current stored rule set."""
    from alerts import AlertStore, load_rules
    from alerts.rules import RuleSet
    from base.settings import get_settings

    s = get_settings()
    store = AlertStore.from_settings(s)
    if rules_file is not None:
        rules = load_rules(rules_file, sender=sender)
    else:
        rules = store.rules()
        if sender:
            rules = RuleSet.model_validate({**rules.model_dump(), "sender": sender})
    return s, open_catalog(), store, rules


def _base(s: Any) -> str:
    from alerts import DEFAULT_BASE_URL

    return (s.public_url or DEFAULT_BASE_URL).rstrip("/")


def _print(msgs: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(msgs, ensure_ascii=False, indent=2))
        return
    t = Table("identifier", "type", "status", "severity", "unit", "headline", "sent")
    for m in msgs:
        t.add_row(m["identifier"], m["msgType"], m["status"], m["severity"], f"{m['unit_name']} ({m['unit_code']})", m["headline_vi"], m["sent"])
    console.print(t)


def evaluate_built(catalog: Any, settings: Any, collection: str, item_id: str) -> tuple[list[dict[str, Any]], str | None]:
    """Evaluate the current rule set (stored, else the shipped file) on an item just built (``hpgeo products build|rebuild``, the demo).

    Returns (messages, None), or ([], error) after logging the failure at ERROR with its traceback and
    printing it on stderr: the built item is kept either way; ``hpgeo alerts evaluate`` retries it."""
    from alerts import AlertStore, evaluate_item

    store = None
    try:
        store = AlertStore.from_settings(settings)
        rules = store.rules()
        if not rules.for_collection(collection):
            return [], None
        msgs = evaluate_item(store, catalog, collection, item_id, rules, data_dir=settings.resolved_data_dir, base_url=_base(settings))
        console.print(f"  alerts: {len(msgs)} message(s)" + "".join(f"\n    {m['msgType']} {m['identifier']} ({m['unit_name']})" for m in msgs))
        return msgs, None
    except Exception as exc:  # noqa: BLE001 - the item is built; say so loudly, do not undo it
        err = f"{type(exc).__name__}: {exc}"
        log.exception("ALERT EVALUATION FAILED for %s/%s (the item is built and kept): %s", collection, item_id, err)
        from hpgeo.cli.common import err_console

        err_console.print(f"[bold red]ALERT EVALUATION FAILED[/] for {collection}/{item_id}: {err}\n"
                          f"  the item is built and kept; retry with `hpgeo alerts evaluate {collection}/{item_id}`")
        return [], err
    finally:
        if store is not None:
            store.close()


@app.command()
def evaluate(
    items: list[str] = typer.Argument(None, help="COLLECTION/ITEM to evaluate (default: the newest item of every collection a rule watches)."),
    rules_file: Optional[Path] = typer.Option(None, "--rules", help="Rules YAML (default: the current rule set: stored, else alerts/rules.yaml)."),
    sender: Optional[str] = typer.Option(None, "--sender", help="CAP sender (default: the rules file's)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Evaluate the rules; prints the messages raised (none when nothing changed: evaluation is idempotent)."""
    from alerts import evaluate_item
    from ingest.catalog import SearchQuery

    s, cat, store, rules = _ctx(rules_file, sender)
    targets: list[tuple[str, str]] = []
    for spec in items or []:
        if "/" not in spec:
            raise InvalidRequest(f"items are COLLECTION/ITEM, got {spec!r}")
        c, i = spec.split("/", 1)
        targets.append((c, i))
    if not items:
        for c in sorted({c for r in rules.rules for c in r.collections} & set(cat.collection_kinds())):
            found = list(cat.search(SearchQuery.build(collections=[c], limit=1)))
            targets += [(c, it["id"]) for it in found[:1]]
    out: list[dict[str, Any]] = []
    for c, i in targets:
        out += evaluate_item(store, cat, c, i, rules, data_dir=s.resolved_data_dir, base_url=_base(s))
    _print(out, as_json)
    if not as_json:
        console.print(f"{len(out)} message(s) from {len(targets)} item(s)")


@app.command("list")
def list_(history: bool = typer.Option(False, "--history", help="Every message, not only the active alerts."),
          as_json: bool = typer.Option(False, "--json")) -> None:
    """Active alerts (or the whole history)."""
    _, _, store, _ = _ctx()
    _print(store.messages(active=not history), as_json)


@app.command()
def show(identifier: str, xml: bool = typer.Option(False, "--xml", help="Print the CAP XML.")) -> None:
    """One message (JSON, or its CAP XML)."""
    _, _, store, _ = _ctx()
    m = store.message(identifier)
    typer.echo(m["xml"] if xml else json.dumps({k: v for k, v in m.items() if k != "xml"}, ensure_ascii=False, indent=2))


@app.command()
def cancel(identifier: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """Cancel the open alert of message IDENTIFIER (a CAP Cancel referencing it; audited)."""
    from alerts import cancel_event
    from registry.auth import CLI_PRINCIPAL

    s, cat, store, rules = _ctx()
    _print([cancel_event(store, cat, identifier, rules, CLI_PRINCIPAL, data_dir=s.resolved_data_dir, base_url=_base(s))], as_json)


@app.command()
def subscribe(url: str, rule: list[str] = typer.Option(None, "--rule"), unit: list[str] = typer.Option(None, "--unit", help="Official unit code."),
              min_severity: Optional[str] = typer.Option(None, "--min-severity"), secret: Optional[str] = typer.Option(None, "--secret"),
              remove: bool = typer.Option(False, "--remove", help="URL is a subscription id to remove.")) -> None:
    """Add a webhook subscription (prints its secret once), or remove one with --remove ID."""
    from registry.auth import CLI_PRINCIPAL

    _, _, store, _ = _ctx()
    if remove:
        store.unsubscribe(url, CLI_PRINCIPAL)
        console.print(f"removed {url}")
        return
    filters: dict[str, Any] = {k: v for k, v in (("rules", rule), ("units", unit)) if v}
    if min_severity:
        filters["min_severity"] = min_severity
    typer.echo(json.dumps(store.subscribe(url, filters, CLI_PRINCIPAL, secret=secret), indent=2))


@app.command()
def deliver(loop: bool = typer.Option(False, "--loop", help="Keep delivering (a service); else one pass."),
            every: Optional[float] = typer.Option(None, "--every", min=0.01, help="Idle wait of --loop (s; default HPGEO_ALERTS_DELIVER_EVERY, 1)."),
            max_attempts: Optional[int] = typer.Option(None, "--max-attempts", min=1, help="Default HPGEO_ALERTS_MAX_ATTEMPTS (8)."),
            backoff: Optional[float] = typer.Option(None, "--backoff", min=0.0, help="Default HPGEO_ALERTS_BACKOFF (2 s)."),
            timeout: Optional[float] = typer.Option(None, "--timeout", min=0.1, help="Default HPGEO_ALERTS_WEBHOOK_TIMEOUT (10 s)."),
            lease: Optional[float] = typer.Option(None, "--lease", min=0.1, help="Default HPGEO_ALERTS_LEASE (60 s; ≥ 3 × the timeout).")) -> None:
    """POST the pending outbox rows to their webhooks (signed, retried with backoff, dead-lettered).

    Any number of deliverers (this, and `hpgeo serve` unless HPGEO_ALERTS_DELIVER=false) may run on one
    database: each outbox row is claimed by exactly one."""
    from alerts.config import AlertSettings
    from alerts.delivery import DeliveryPolicy, deliver_due, deliver_loop

    cfg = AlertSettings()
    try:
        policy = DeliveryPolicy(max_attempts=max_attempts or cfg.max_attempts, backoff=cfg.backoff if backoff is None else backoff,
                                max_backoff=cfg.max_backoff, timeout=timeout or cfg.webhook_timeout, lease=lease or cfg.lease)
    except ValueError as exc:
        raise InvalidRequest(str(exc)) from None
    _, _, store, _ = _ctx()
    if loop:
        deliver_loop(store, policy, every=every or cfg.deliver_every)
        return
    console.print(deliver_due(store, policy))


rules_app = typer.Typer(help="The alert rule set: show it, change it (validated, version + 1, audited), its history.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")


@rules_app.command("show")
def rules_show(as_json: bool = typer.Option(False, "--json", help="JSON with version and source instead of the YAML.")) -> None:
    """The current rule set (YAML as stored; the version and its source on stderr)."""
    from hpgeo.cli.common import err_console

    _, _, store, _ = _ctx()
    rules, meta, text = store.current_rules()
    if as_json:
        typer.echo(json.dumps({"version": rules.version, "source": meta, "rules": rules.model_dump(mode="json")}, ensure_ascii=False, indent=2))
        return
    err_console.print(f"rules version {rules.version} ({meta['source']})")
    typer.echo(text, nl=not text.endswith("\n"))


@rules_app.command("set")
def rules_set(file: Path = typer.Argument(..., help="The whole new rule set (YAML, or JSON if it ends in .json)."),
              comment: str = typer.Option("", "--comment", "-m", help="Why the rules change (kept with the version)."),
              bump: bool = typer.Option(True, "--bump/--exact", help="--bump (default): write version = current + 1 into the file's "
                                        "rule set; --exact: the file must already carry it (else exit 2).")) -> None:
    """Validate FILE and store it as the next version of the rules (audited as the command line operator)."""
    import yaml

    from registry.auth import CLI_PRINCIPAL

    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise InvalidRequest(f"cannot read {file}: {exc}") from None
    fmt = "json" if file.suffix.lower() == ".json" else "yaml"
    _, _, store, current = _ctx()
    if bump:
        try:
            doc = json.loads(raw) if fmt == "json" else yaml.safe_load(raw.decode("utf-8"))
        except (ValueError, yaml.YAMLError) as exc:
            raise InvalidRequest(f"{file}: not valid {fmt.upper()}: {exc}") from None
        if isinstance(doc, dict) and doc.get("version") != current.version + 1:
            if fmt == "json":
                doc["version"] = current.version + 1
                raw = json.dumps(doc, ensure_ascii=False).encode("utf-8")
            else:  # rewrite the top-level `version:` line only, so the file's comments stay
                import re

                from alerts.rules import dump_rules

                text, n = re.subn(r"(?m)^version:[ \t]*\S+[ \t]*$", f"version: {current.version + 1}", raw.decode("utf-8"))
                doc["version"] = current.version + 1
                raw = (text if n == 1 else dump_rules(doc)).encode("utf-8")
    meta = store.set_rules(raw, CLI_PRINCIPAL, comment=comment, fmt=fmt)
    console.print(f"rules version {meta['version']} stored (was {current.version})")


@rules_app.command("history")
def rules_history(as_json: bool = typer.Option(False, "--json")) -> None:
    """Every stored version, newest first, down to the shipped default."""
    _, _, store, _ = _ctx()
    hist = store.rules_history()
    if as_json:
        typer.echo(json.dumps(hist, ensure_ascii=False, indent=2))
        return
    t = Table("version", "source", "at", "by", "agency", "comment")
    for h in hist:
        t.add_row(str(h["version"]), h["source"], h.get("at", ""), h.get("by", ""), h.get("agency") or "", h.get("comment", ""))
    console.print(t)
