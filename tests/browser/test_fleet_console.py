"""The fleet dashboard in a real headless browser (Debian's chromium driven by Playwright), on a
real Mosquitto with hand-made terminals that check the console's signature."""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fleet_console.console import ConsoleOptions, RunningConsole
from fleet_console.link import BrokerSettings
from fleet_console.protocol import verify_command
from tests.support.fleet_publisher import FakeTerminal
from tests.support.mosquitto import MosquittoBroker, mosquitto_broker  # noqa: F401
from tests.support.mqtt_probe import MqttProbe

CHROMIUM = Path("/usr/bin/chromium")
# The pictures in docs/screens are rewritten only on request (KIOSK_WRITE_DOCS_SCREENS=1), so a test
# run never leaves the checkout modified; otherwise they go to a throwaway folder.
DOCS_SCREENS = Path(__file__).resolve().parents[2] / "docs" / "screens"
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian chromium (/usr/bin/chromium) is not installed"
)


def _picture(name: str) -> Path:
    if os.environ.get("KIOSK_WRITE_DOCS_SCREENS") == "1":
        return DOCS_SCREENS / name
    folder = Path(tempfile.gettempdir()) / "kiosk-test-screens"
    folder.mkdir(exist_ok=True)
    return folder / name


def wait_until(condition: Callable[[], bool], what: str, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {timeout_s} s")
        time.sleep(0.02)  # polling a condition with a deadline


@pytest.fixture(scope="module")
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def fleet(
    mosquitto_broker: MosquittoBroker,  # noqa: F811
    key: Ed25519PrivateKey,
) -> Iterator[dict[str, FakeTerminal]]:
    terminals: dict[str, FakeTerminal] = {}
    for device in ("gz-cili-001", "gz-cili-002", "gz-baiyun-007", "gz-huangpu-003", "gz-panyu-012"):
        probe = MqttProbe("127.0.0.1", mosquitto_broker.port, f"{device}-{uuid.uuid4().hex[:6]}")
        probe.connect()
        terminals[device] = FakeTerminal(probe, device, key.public_key())
        terminals[device].publish_tree(compartments=12)
    terminals["gz-cili-002"].raise_alert(
        "printer-paper-out",
        "error",
        "The receipt printer is out of paper; citizens get no receipt. Load a new roll.",
        "凭条打印机缺纸，市民无法取得回执，请更换纸卷。",
    )
    terminals["gz-cili-002"].set_value("printer", "paper", "out")
    terminals["gz-cili-002"].set_value("doors", "door-5", "open")
    terminals["gz-cili-002"].set_value("doors", "item-5", "present")
    terminals["gz-cili-002"].set_value("doors", "state-9", "out-of-service")
    terminals["gz-cili-002"].raise_alert(
        "door-5-attention",
        "critical",
        "Compartment 5 needs a look: opened without a command",
        "5号格口需要现场检查：未经指令被打开",
    )
    terminals["gz-huangpu-003"].raise_alert(
        "printer-paper-low",
        "warning",
        "The receipt printer's paper roll is nearly used up; bring a new roll.",
        "凭条打印机纸卷即将用完，请带新纸卷。",
    )
    terminals["gz-panyu-012"].set_state("lost")
    for terminal in terminals.values():
        terminal.answer_commands()
    yield terminals
    for terminal in terminals.values():
        terminal.probe.close()


@pytest.fixture(scope="module")
def console(
    mosquitto_broker: MosquittoBroker,  # noqa: F811
    key: Ed25519PrivateKey,
    fleet: dict[str, FakeTerminal],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RunningConsole]:
    options = ConsoleOptions(
        broker=BrokerSettings(mosquitto_broker.url),
        database=tmp_path_factory.mktemp("console") / "console.db",
        console_id="browser-console",
        issuer="li-gong",
        signing_key=key,
        port=0,
        refresh_s=600,  # no reload in the middle of a test's clicks
    )
    with RunningConsole(options) as running:
        wait_until(lambda: len(running.store.terminals()) == len(fleet), "every terminal stored")
        wait_until(
            lambda: (t := running.store.terminal("gz-cili-002")) is not None and len(t.alerts) == 2,
            "the alerts stored",
        )
        fleet["gz-cili-002"].log("warning", "printer: paper out")  # logs are not retained
        wait_until(lambda: bool(running.store.logs("gz-cili-002")), "the log line stored")
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, console: RunningConsole) -> Iterator[Any]:
    context = browser.new_context(base_url=console.url, viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(20_000)
    yield opened
    context.close()


def test_the_grid_sorts_terminals_by_urgency(page: Any) -> None:
    page.goto("/")
    tiles = page.locator("#terminals a.tile")
    order = [tiles.nth(i).get_attribute("data-device") for i in range(tiles.count())]
    assert order[:3] == ["gz-panyu-012", "gz-cili-002", "gz-huangpu-003"]
    assert set(order[3:]) == {"gz-baiyun-007", "gz-cili-001"}
    assert tiles.nth(0).get_attribute("data-urgency") == "lost"
    assert tiles.nth(1).get_attribute("data-urgency") == "critical"
    assert page.locator("#count-lost").inner_text() == "1"
    assert "缺纸" in tiles.nth(1).inner_text()
    page.screenshot(path=str(_picture("fleet-dashboard.png")), full_page=True)


def test_a_terminal_page_shows_the_column_and_the_alerts(page: Any) -> None:
    page.goto("/")
    page.click('a.tile[data-device="gz-cili-002"]')
    page.wait_for_url("**/terminals/gz-cili-002")
    alerts = page.locator("#alerts tr[data-alert]")
    assert [alerts.nth(i).get_attribute("data-severity") for i in range(alerts.count())] == [
        "critical",
        "error",
    ]
    door = page.locator('g.compartment[data-number="5"]')
    assert door.get_attribute("data-door") == "open"
    assert door.get_attribute("data-item") == "present"
    assert page.locator('g.compartment[data-number="9"]').get_attribute("data-state") == (
        "out-of-service"
    )
    assert page.locator("g.compartment").count() == 12
    assert (
        page.locator(
            '#devices tr[data-node="printer"][data-property="paper"] td.value'
        ).inner_text()
        == "out"
    )
    assert "printer: paper out" in page.locator("#logs").inner_text()
    assert page.locator("#chart-paper").get_attribute("data-points") == "1"  # retained: the last
    page.screenshot(path=str(_picture("fleet-terminal.png")), full_page=True)


def test_a_command_asks_for_confirmation_then_goes_out_signed(
    page: Any, fleet: dict[str, FakeTerminal], key: Ed25519PrivateKey
) -> None:
    terminal = fleet["gz-cili-001"]
    page.goto("/terminals/gz-cili-001")
    form = page.locator("#form-open-compartment")
    form.locator('input[name="compartment"]').fill("7")
    form.locator('input[name="reason"]').fill("市民材料卡住 citizen's papers stuck")
    form.locator("button").click()
    page.wait_for_selector("#confirmation")
    assert page.locator("#confirm-device").inner_text() == "gz-cili-001"
    assert '"number": 7' in page.locator("#confirm-args").inner_text()
    assert not terminal.executed  # nothing is sent before the technician confirms

    page.click("#confirm-cancel")
    page.wait_for_url("**/terminals/gz-cili-001*")
    assert not terminal.executed

    form = page.locator("#form-open-compartment")
    form.locator('input[name="compartment"]').fill("7")
    form.locator('input[name="reason"]').fill("市民材料卡住 citizen's papers stuck")
    form.locator("button").click()
    page.click("#confirm-send")
    page.wait_for_selector("#command-sent")
    wait_until(lambda: bool(terminal.executed), "the terminal to receive the command")
    delivered = terminal.probe.wait_message(lambda m: m.topic == "gzk/1/gz-cili-001/cmd")
    command = verify_command(delivered.payload, key.public_key())
    assert command.name == "open-compartment"
    assert command.issuer == "li-gong"
    assert dict(command.args) == {"number": 7, "reason": "市民材料卡住 citizen's papers stuck"}

    page.reload()
    row = page.locator(f'#sent-commands tr[data-command="{command.id}"]')
    wait_until(
        lambda: (page.reload() or True) and row.get_attribute("data-status") == "SUCCEEDED",
        "the reply shown",
    )
    assert page.locator('g.compartment[data-number="7"]').get_attribute("data-door") == "open"


def test_a_missing_reason_is_said_before_anything_is_signed(page: Any) -> None:
    page.goto("/terminals/gz-cili-001")
    page.evaluate(
        "document.querySelectorAll('#form-take-out-of-service input').forEach("
        "i => i.removeAttribute('required'))"
    )
    form = page.locator("#form-take-out-of-service")
    form.locator('input[name="compartment"]').fill("3")
    form.locator("button").click()
    assert "needs a reason" in page.locator("#command-error").inner_text()


def test_the_screenshot_command_shows_the_remote_screen(page: Any) -> None:
    page.goto("/terminals/gz-baiyun-007")
    page.locator("#form-screenshot button").click()
    page.click("#confirm-send")
    page.wait_for_selector("#command-sent")
    image = page.locator("#screenshot")
    wait_until(lambda: (page.reload() or True) and image.count() == 1, "the screenshot shown")
    assert image.evaluate("img => img.complete && img.naturalWidth") == 1
