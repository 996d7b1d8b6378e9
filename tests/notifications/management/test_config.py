"""``manage.py dump_config`` / ``load_config``: configuration as a versioned file."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command

from notifications.models import Category, GroupTarget, MessageTemplate, RecipientGroup, Rule
from tests.factories import (
    CategoryFactory,
    EmailTemplateFactory,
    GroupTargetFactory,
    RecipientGroupFactory,
    RuleFactory,
    SubscriberFactory,
)

pytestmark = pytest.mark.django_db
CONFIG_MODELS = (Category, RecipientGroup, GroupTarget, Rule, MessageTemplate)


def run(command: str, *args: str) -> str:
    out = StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in CONFIG_MODELS}


def wipe_config() -> None:
    MessageTemplate.objects.all().delete()
    Rule.objects.all().delete()
    RecipientGroup.objects.all().delete()
    Category.objects.all().delete()


def write(tmp_path: Path, document: dict, name: str = "config.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


@pytest.fixture
def configured():
    """A bit of everything the file format covers."""
    alice, bob = SubscriberFactory(external_id="alice"), SubscriberFactory(external_id="bob")
    security = CategoryFactory(key="security", name="Security", critical=True,
                               description="Sign-ins and keys")
    ops = RecipientGroupFactory(name="#ops", description="On call")
    ops.members.add(bob, alice)
    GroupTargetFactory(group=ops, channel="matrix", address="!room:example.org", label="Room")
    GroupTargetFactory(group=ops, channel="email", address="ops@example.com")
    rule = RuleFactory(name="Big refund", event_type="refund.*", category=security,
                       condition="data.amount > 100", channels=["email", "sms"],
                       audience="both", sample_data={"order_id": "A-1", "amount": 250})
    rule.groups.add(ops)
    EmailTemplateFactory(rule=rule)
    EmailTemplateFactory(rule=rule, locale="de", subject="Erstattung {{ data.order_id }}",
                         text_body="Hallo,\n\nBetrag: {{ data.amount }}\n", html_body="")
    RuleFactory(name="Quiet", event_type="noise", category=None, enabled=False,
                channels=["inapp"])
    MessageTemplate.objects.create(event_type="user.signed_up", channel="inapp",
                                   inapp_title="Welcome {{ subscriber.first_name }}")
    return rule


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_dump_then_load_on_an_empty_database_reproduces_the_dump(configured, tmp_path, fmt):
    path = tmp_path / f"config.{fmt}"
    run("dump_config", "-o", str(path))
    first = path.read_text()
    before = counts()
    wipe_config()

    output = run("load_config", str(path))

    assert "rules: 2 created" in output and "templates: 3 created" in output
    assert counts() == before
    assert run("dump_config", "--format", fmt) == first
    assert Rule.objects.get(name="Big refund").groups.get().members.count() == 2


def test_dump_is_readable_yaml_with_block_text_and_nested_templates(configured):
    document = yaml.safe_load(run("dump_config"))
    [big, quiet] = document["rules"]
    assert big["category"] == "security" and big["groups"] == ["#ops"]
    assert [(t["channel"], t["locale"]) for t in big["templates"]] == [("email", ""),
                                                                       ("email", "de")]
    assert quiet["category"] is None
    assert document["groups"][0]["members"] == ["alice", "bob"]
    assert document["templates"] == [{"event_type": "user.signed_up", "channel": "inapp",
                                      "locale": "", "inapp_title":
                                      "Welcome {{ subscriber.first_name }}"}]
    assert "text_body: |\n" in run("dump_config")


def test_loading_the_same_file_twice_changes_nothing_the_second_time(configured, tmp_path):
    path = tmp_path / "config.json"
    run("dump_config", "-o", str(path))
    stamps = {r.name: r.updated_at for r in Rule.objects.all()}

    output = run("load_config", str(path))

    assert "Already up to date" in output
    assert "rules: 0 created, 0 updated, 2 unchanged, 0 deleted" in output
    assert "templates: 0 created, 0 updated, 3 unchanged, 0 deleted" in output
    assert {r.name: r.updated_at for r in Rule.objects.all()} == stamps


def test_load_updates_by_name_and_replaces_members_and_targets(configured, tmp_path):
    document = yaml.safe_load(run("dump_config"))
    document["rules"][0]["templates"][0]["subject"] = "Refund for {{ data.order_id }}"
    document["groups"][0]["members"] = ["alice"]
    document["groups"][0]["targets"] = [{"channel": "email", "address": "new@example.com"}]

    output = run("load_config", str(write(tmp_path, document)))

    assert "groups: 0 created, 1 updated" in output
    assert "templates: 0 created, 1 updated, 2 unchanged" in output
    assert configured.templates.get(locale="").subject == "Refund for {{ data.order_id }}"
    ops = RecipientGroup.objects.get(name="#ops")
    assert [s.external_id for s in ops.members.all()] == ["alice"]
    assert list(ops.targets.values_list("address", flat=True)) == ["new@example.com"]


def test_broken_template_names_item_field_and_line_and_writes_nothing(tmp_path):
    document = {
        "version": 1,
        "categories": [{"key": "orders", "name": "Orders"}],
        "groups": [{"name": "#ops"}],
        "rules": [
            {"name": "Fine", "event_type": "a", "channels": ["email"], "category": "orders"},
            {"name": "Order shipped", "event_type": "order.shipped", "channels": ["email"],
             "groups": ["#ops"], "templates": [
                 {"channel": "email", "subject": "ok",
                  "text_body": "Hello\n{{ data.order_id }"}]},
        ],
    }
    with pytest.raises(CommandError) as error:
        run("load_config", str(write(tmp_path, document)))
    assert ("rules[1] (name 'Order shipped'): templates[0].text_body: line 2: "
            in str(error.value))
    assert "nothing was changed" in str(error.value)
    assert counts() == dict.fromkeys(counts(), 0)


def test_dry_run_reports_but_writes_nothing(configured, tmp_path):
    path = tmp_path / "config.yaml"
    run("dump_config", "-o", str(path))
    wipe_config()

    output = run("load_config", str(path), "--dry-run")

    assert "rules: 2 created" in output and "Dry run: nothing was written." in output
    assert counts() == dict.fromkeys(counts(), 0)


def test_items_absent_from_the_file_are_kept_unless_pruned(configured, tmp_path):
    path = tmp_path / "config.yaml"
    run("dump_config", "-o", str(path))
    extra_rule = RuleFactory(name="Extra")
    EmailTemplateFactory(rule=extra_rule)
    EmailTemplateFactory(rule=configured, locale="fr")
    RecipientGroupFactory(name="#extra")
    MessageTemplate.objects.create(event_type="extra.event", channel="inapp", inapp_title="x")
    before = counts()

    assert "0 deleted" in run("load_config", str(path))
    assert counts() == before

    output = run("load_config", str(path), "--prune")

    assert "rules: 0 created, 0 updated, 2 unchanged, 1 deleted" in output
    assert "groups: 0 created, 0 updated, 1 unchanged, 1 deleted" in output
    # Extra rule's template, the French template and the extra event-type template.
    assert "templates: 0 created, 0 updated, 3 unchanged, 3 deleted" in output
    assert "categories: 0 created, 0 updated, 1 unchanged, 1 deleted" in output
    assert not Rule.objects.filter(pk=extra_rule.pk).exists()
    assert not Category.objects.filter(pk=extra_rule.category_id).exists()
    assert not configured.templates.filter(locale="fr").exists()
    assert not RecipientGroup.objects.filter(name="#extra").exists()
    assert run("dump_config", "--format", "yaml") == path.read_text()


def test_prune_refuses_to_delete_a_category_rules_still_use(configured, tmp_path):
    document = {"version": 1, "categories": [{"key": "other", "name": "Other"}]}
    before = counts()
    with pytest.raises(CommandError, match=r"categories \(key 'security'\).*still used by 1 rules"):
        run("load_config", str(write(tmp_path, document)), "--prune")
    assert counts() == before
    assert not Category.objects.filter(key="other").exists()


def test_prune_leaves_sections_missing_from_the_file_alone(configured, tmp_path):
    document = {"version": 1, "groups": [{"name": "#ops", "members": ["alice", "bob"],
                                          "targets": []}]}
    RecipientGroupFactory(name="#extra")
    before = counts()

    output = run("load_config", str(write(tmp_path, document)), "--prune")

    assert "groups: 0 created, 1 updated, 0 unchanged, 1 deleted" in output
    assert counts() == {**before, "RecipientGroup": 1, "GroupTarget": 0}


@pytest.mark.parametrize("document, message", [
    ({"version": 1, "widgets": []}, "Unknown top-level key(s) 'widgets'"),
    ({"version": 1, "categories": [{"key": "a", "name": "A", "colour": "red"}]},
     "categories[0] (key 'a'): unknown key(s) 'colour'"),
    ({"version": 1, "rules": [{"name": "r", "event_type": "a", "channels": ["email"],
                               "templates": [{"channel": "email", "event_type": "x"}]}]},
     "rules[0] (name 'r'): templates[0] (channel 'email'): unknown key(s) 'event_type'"),
    ({"version": 1, "groups": [{"name": "#ops", "members": ["ghost"]}]},
     "groups[0] (name '#ops'): members: unknown subscriber(s) 'ghost'"),
    ({"version": 1, "rules": [{"name": "r", "event_type": "a", "channels": ["email"],
                               "groups": ["#nowhere"]}]},
     "rules[0] (name 'r'): groups: unknown group(s) '#nowhere'"),
    ({"version": 1, "rules": [{"name": "r", "event_type": "a", "channels": ["email"],
                               "templates": [{"channel": "email", "locale": False}]}]},
     "locale: must be text"),
    ({"version": 1, "categories": [{"key": "a", "name": "A"}, {"key": "a", "name": "B"}]},
     "categories[1] (key 'a'): listed twice (also categories[0])"),
    ({"categories": []}, "version: must be 1"),
])
def test_invalid_files_are_rejected_with_the_item_named(tmp_path, document, message):
    with pytest.raises(CommandError) as error:
        run("load_config", str(write(tmp_path, document)))
    assert message in str(error.value)
    assert counts() == dict.fromkeys(counts(), 0)


def test_format_comes_from_the_extension(tmp_path):
    json_path = tmp_path / "config.json"
    json_path.write_text(json.dumps({"version": 1, "categories": [{"key": "a", "name": "A"}]}))
    assert "categories: 1 created" in run("load_config", str(json_path))

    other = tmp_path / "config.txt"
    other.write_text("version: 1\n")
    with pytest.raises(CommandError, match=r"\.yaml, \.yml or \.json"):
        run("load_config", str(other))


def test_yaml_syntax_error_reports_its_line(tmp_path):
    path = tmp_path / "config.yml"
    path.write_text("version: 1\ncategories:\n  - key: [unclosed\n")
    with pytest.raises(CommandError, match="Not valid YAML.*line"):
        run("load_config", str(path))


# Fields a configuration file does not carry: row identity, bookkeeping, and references
# (compared through the names they point at, below).
_NOT_CONFIG = {"id", "created_at", "updated_at", "directory", "category", "rule", "group"}


def _full_dump() -> dict[str, list[dict]]:
    """Every field staff can set on every configuration row, by natural key: a field added
    to a model later is compared here without anyone having to remember it."""
    def fields(row) -> dict:
        values = {f.name: getattr(row, f.attname) for f in row._meta.concrete_fields
                  if f.name not in _NOT_CONFIG}
        if isinstance(row, Rule):
            values["category"] = row.category.key if row.category else None
            values["groups"] = sorted(g.name for g in row.groups.all())
        if isinstance(row, MessageTemplate):
            values["rule"] = row.rule.name if row.rule else None
        if isinstance(row, GroupTarget):
            values["group"] = row.group.name
        if isinstance(row, RecipientGroup):
            values["members"] = sorted(m.external_id for m in row.members.all())
        return values

    return {model.__name__: sorted((fields(row) for row in model.objects.all()), key=repr)
            for model in CONFIG_MODELS}


def test_dump_then_load_onto_an_empty_instance_reproduces_every_setting(tmp_path):
    from datetime import time

    alerts = CategoryFactory(key="alerts", name="Alerts", critical=True, throttle_limit=5,
                             throttle_window_seconds=600)
    ops = RecipientGroupFactory(name="#ops", description="On call")
    ops.members.add(SubscriberFactory(external_id="ana"))
    GroupTargetFactory(group=ops, channel="email", address="ops@example.com", label="list")
    daily = RuleFactory(name="daily", event_type="build.failed", category=alerts,
                        channels=["inapp"], audience="both", enabled=False,
                        condition="data.branch == 'main'", delay_seconds=30,
                        digest_at=time(7, 30), digest_key="data.project",
                        escalate_after_minutes=15, escalate_channel="sms",
                        sample_data={"branch": "main", "project": "p", "order_id": "A-1"})
    daily.groups.add(ops)
    EmailTemplateFactory(rule=daily, channel="email", locale="de")
    EmailTemplateFactory(rule=daily, channel="email", locale="")
    RuleFactory(name="windowed", event_type="x.y", digest_window_seconds=3600, channels=["email"])
    EmailTemplateFactory(rule=None, event_type="x.y", channel="email", locale="")
    before = _full_dump()

    path = tmp_path / "clarion.yaml"
    run("dump_config", "-o", str(path))
    wipe_config()
    run("load_config", str(path))

    assert _full_dump() == before


_WRONG = [5, "text", [], {}, True, [5], {"a": 1}, -1, 1.5]


def _documents_with_one_wrong_value(document: dict):
    """The document again and again, each time with one value anywhere replaced by a value
    of another type."""
    def walk(node, path):
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in list(items):
            for wrong in _WRONG:
                if type(wrong) is type(value):
                    continue
                node[key] = wrong
                yield f"{path}.{key}", json.loads(json.dumps(document))
                node[key] = value
            if isinstance(value, dict | list):
                yield from walk(value, f"{path}.{key}")
    yield from walk(document, "")


def test_a_wrong_type_anywhere_is_a_command_error_not_a_traceback(tmp_path):
    CategoryFactory(key="alerts", throttle_limit=5, throttle_window_seconds=60)
    group = RecipientGroupFactory(name="#ops")
    GroupTargetFactory(group=group)
    rule = RuleFactory(name="r", event_type="a.b", category=Category.objects.get(key="alerts"),
                       escalate_after_minutes=5, escalate_channel="sms", channels=["inapp"],
                       sample_data={"order_id": "A-1"})
    rule.groups.add(group)
    EmailTemplateFactory(rule=rule, channel="email")
    from notifications.services.config_io.dump import config_dump

    document = json.loads(json.dumps(config_dump(), default=str))
    tried = 0
    for where, broken in _documents_with_one_wrong_value(document):
        path = tmp_path / "broken.json"
        path.write_text(json.dumps(broken))
        try:
            run("load_config", str(path))
        except CommandError:
            pass  # refused with the problems named (or accepted): either way, no traceback
        except Exception as exc:
            raise AssertionError(f"a wrong value at {where} raised {exc!r}") from exc
        tried += 1
    assert tried > 100


def test_the_published_schema_accepts_every_dump_and_names_wrong_types(tmp_path):
    import jsonschema

    from notifications.services.config_io.dump import config_dump

    CategoryFactory(key="alerts", throttle_limit=5, throttle_window_seconds=60)
    group = RecipientGroupFactory(name="#ops")
    GroupTargetFactory(group=group)
    rule = RuleFactory(name="r", event_type="a.b", channels=["inapp"], escalate_channel="sms",
                       escalate_after_minutes=5, sample_data={"order_id": "A-1"})
    rule.groups.add(group)
    EmailTemplateFactory(rule=rule, channel="email")
    schema = json.loads(run("config_schema"))
    jsonschema.Draft202012Validator.check_schema(schema)
    document = json.loads(json.dumps(config_dump(), default=str))

    jsonschema.validate(document, schema)
    document["rules"][0]["delay_seconds"] = "soon"
    with pytest.raises(jsonschema.ValidationError, match="soon"):
        jsonschema.validate(document, schema)


def test_a_rule_that_escalates_to_a_channel_without_template_is_named(tmp_path):
    document = {"version": 1, "rules": [{
        "name": "unread", "event_type": "a.b", "channels": ["inapp", "webhook"],
        "escalate_after_minutes": 5, "escalate_channel": "email",
        "templates": [{"channel": "inapp", "inapp_title": "Hi", "inapp_body": "There"}]}]}
    output = run("load_config", str(write(tmp_path, document)))
    assert ("Warning: rules (name 'unread'): no template for email; those deliveries will "
            "fail until one is added.") in output
