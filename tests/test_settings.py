"""One settings object built at the edge and passed down; one definition of the business time zone."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest

from fengkong import settings as fs
from fengkong.events import pii
from fengkong.pricing.config import load_config
from fengkong.runtime import resolve_state
from fengkong.settings import ENV, Settings, configure, current
from fengkong.store.engine_url import resolve_url

SRC = Path(__file__).resolve().parents[1] / "src" / "fengkong"
KEY = "cd" * 32


@pytest.fixture
def installed():
    """Install settings for one test, then restore whatever was installed."""
    previous = configure(None)
    yield lambda s: configure(s)
    configure(previous)


def test_from_env_reads_every_variable_blank_is_unset():
    env = {var: f"v-{name}" for name, var in ENV.items()} | {"FENGKONG_FOUR_EYES": "yes", "FENGKONG_DB": "  ",
                                                              "FENGKONG_AUDIT_CHECKPOINT_EVERY": " 40 "}
    s = Settings.from_env(env)
    assert (
        s.db is None
        and s.four_eyes is True
        and s.audit_checkpoint_every == 40
        and s.state == "v-state"
        and s.pricing_config == "v-pricing_config"
    )
    assert "'v-pii_key'" not in repr(s) and "v-audit_key" not in repr(s) and "v-password" not in repr(s)
    assert Settings.from_env({"FENGKONG_FOUR_EYES": "0"}).four_eyes is False
    assert Settings.env_name("db") == "FENGKONG_DB"


def test_the_installed_settings_are_what_the_modules_use(installed, monkeypatch, tmp_path):
    monkeypatch.setenv("FENGKONG_DB", "sqlite:///from-env.db")
    monkeypatch.setenv("FENGKONG_STATE", "from-env-state.db")
    assert resolve_url() == "sqlite:///from-env.db" and resolve_state() == "from-env-state.db"
    over = tmp_path / "pricing.yaml"
    over.write_text("risk_pricing:\n  channel: zhudai\n", encoding="utf-8")
    installed(Settings(db="sqlite:///edge.db", state="memory", pii_key=KEY, pricing_config=str(over)))
    assert resolve_url() == "sqlite:///edge.db" and resolve_state() == "memory"
    assert pii.load_key() == bytes.fromhex(KEY)
    assert load_config().section("risk_pricing")["channel"] == "zhudai"
    # an explicit settings object wins over the installed one; explicit arguments over both
    assert resolve_url(settings=Settings(db="sqlite:///passed.db")) == "sqlite:///passed.db"
    assert resolve_url("sqlite:///arg.db") == "sqlite:///arg.db"
    assert current().state == "memory"


def test_key_errors_still_name_the_variable(installed, tmp_path):
    installed(Settings(pii_key_file=str(tmp_path / "missing.key")))
    with pytest.raises(pii.PiiKeyError, match="FENGKONG_PII_KEY is not set") as e:
        pii.load_key()
    assert "FENGKONG_PII_KEY_FILE" in str(e.value)
    installed(Settings(pii_key="12"))
    with pytest.raises(pii.PiiKeyError, match="FENGKONG_PII_KEY is too short"):
        pii.load_key()


def test_the_cli_builds_the_settings_once_at_start(monkeypatch):
    import fengkong.cli as cli

    seen = []
    monkeypatch.setenv("FENGKONG_STATE", "edge-state")
    monkeypatch.setattr(cli, "_register_all", lambda: None)

    def command(prog_name):
        monkeypatch.setenv("FENGKONG_STATE", "changed-during-the-run")
        seen.append(current())

    monkeypatch.setattr(cli, "app", command)
    previous = configure(None)
    try:
        cli.main()
        assert seen[0].state == "edge-state"  # read once, before the command ran
        assert current().state == "changed-during-the-run"  # and uninstalled when main returns
    finally:
        configure(previous)


def test_business_dates_are_shanghai_dates():
    now = fs.business_now()
    assert now.utcoffset() == dt.timedelta(hours=8) == fs.BUSINESS_OFFSET.utcoffset(None)
    assert fs.business_today() == dt.datetime.now(dt.UTC).astimezone(fs.BUSINESS_OFFSET).date()


#: Modules still spelling the zone themselves, each with its reason (remove the entry when it goes).
TZ_LITERAL_ALLOWED: set[str] = set()


def test_the_business_time_zone_is_defined_once():
    found = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        if rel == "settings.py" or rel.startswith("spark/"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docs = {
            id(n.body[0].value)
            for n in ast.walk(tree)
            if isinstance(n, ast.Module | ast.FunctionDef | ast.ClassDef)
            and n.body
            and isinstance(n.body[0], ast.Expr)
            and isinstance(n.body[0].value, ast.Constant)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and node.value == "Asia/Shanghai" and id(node) not in docs:
                found.append(rel)
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "attr", "") == "timedelta"
                and any(k.arg == "hours" and getattr(k.value, "value", None) == 8 for k in node.keywords)
            ):
                found.append(rel)
    assert sorted(set(found) - TZ_LITERAL_ALLOWED) == [], (
        "use fengkong.settings.BUSINESS_TZ / BUSINESS_TZ_NAME"
    )


#: The edges that touch the process environment themselves, each with its reason.
ENV_EDGES = {
    "settings.py": "Settings.from_env: the one read of fengkong's variables",
    "service/settings.py": "a uvicorn worker reads the settings `fengkong serve` validated (FENGKONG_SERVICE_SETTINGS)",
    "service/cli.py": "`fengkong serve` writes FENGKONG_SERVICE_SETTINGS for its worker processes",
    "spark/session.py": "sets PYSPARK_PYTHON for the Spark executors (a write, for Spark)",
}


def environment_uses(tree: ast.AST) -> list[int]:
    """Lines of ``tree`` that touch the environment: ``os.environ``, ``os.getenv`` / ``putenv`` /
    ``unsetenv``, or those names imported from ``os``."""
    lines = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in ("environ", "environb", "getenv", "getenvb", "putenv", "unsetenv")
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
        ):
            lines.append(node.lineno)
        if isinstance(node, ast.ImportFrom) and node.module == "os" and any(
            a.name in ("environ", "environb", "getenv", "getenvb", "putenv", "unsetenv") for a in node.names
        ):
            lines.append(node.lineno)
    return lines


def test_only_the_edges_read_the_environment():
    found = {}
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        lines = environment_uses(ast.parse(path.read_text(encoding="utf-8")))
        if lines and rel not in ENV_EDGES:
            found[rel] = lines
    assert found == {}, "read the value from fengkong.settings.Settings (built at the edge) and pass it down"
    for rel in ENV_EDGES:  # a stale entry fails: remove it when the module stops touching the environment
        assert environment_uses(ast.parse((SRC / rel).read_text(encoding="utf-8"))), rel


def test_the_environment_check_finds_every_form():
    for code in ("import os\nx = os.environ.get('A')", "import os\nos.getenv('A')",
                 "from os import environ\nenviron['A']", "from os import getenv as g\n"):
        assert environment_uses(ast.parse(code)), code
    assert not environment_uses(ast.parse("import os\nos.path.join('a')"))


def test_the_audit_settings_come_from_the_settings_object(installed, monkeypatch, tmp_path):
    from fengkong.store import open_store
    from fengkong.store.audit_key import AuditKeyError, audit_key, derive

    monkeypatch.setenv("FENGKONG_AUDIT_KEY", "ab" * 32)
    monkeypatch.setenv("FENGKONG_AUDIT_CHECKPOINT_EVERY", "7")
    assert audit_key() == bytes.fromhex("ab" * 32)  # nothing installed: the environment (library use)
    installed(Settings(audit_key="cd" * 32, audit_checkpoint_every=3))
    assert audit_key() == bytes.fromhex("cd" * 32)  # installed by the edge: the environment is not read
    assert audit_key(Settings(pii_key=KEY)) == derive(bytes.fromhex(KEY))  # passed down: wins
    with pytest.raises(AuditKeyError, match="FENGKONG_AUDIT_KEY"):
        audit_key(Settings(audit_key="12"))
    with open_store(f"sqlite:///{tmp_path / 'a.db'}") as st:
        assert st.decisions.checkpoint_every == 3
    with open_store(f"sqlite:///{tmp_path / 'b.db'}", settings=Settings(audit_checkpoint_every=0)) as st:
        assert st.decisions.checkpoint_every == 0
    with open_store(f"sqlite:///{tmp_path / 'c.db'}", settings=Settings()) as st:
        assert st.decisions.checkpoint_every == 1000
    assert Settings.from_env({"FENGKONG_AUDIT_CHECKPOINT_EVERY": "25"}).audit_checkpoint_every == 25
    with pytest.raises(fs.ConfigurationError, match="FENGKONG_AUDIT_CHECKPOINT_EVERY must be a whole number"):
        Settings.from_env({"FENGKONG_AUDIT_CHECKPOINT_EVERY": "often"})
