# The farm suite's options and places: which places to profile (the environment's targets,
# narrowed by --places, and with --only-failed to those whose latest run in the store failed),
# acquired all up front by the controlling process before any worker touches labgrid's
# environment, released when the session ends; one pytest-xdist worker per place.

import json
import os
from pathlib import Path

import pytest
from labgrid.pytestplugin.hooks import LABGRID_ENV_KEY

from gearbox_farm import Coordinator, Settings, Store

REPOSITORY = Path(__file__).resolve().parent.parent
FARM_KEY = pytest.StashKey[dict]()


def pytest_addoption(parser):
    group = parser.getgroup("gearbox farm")
    group.addoption("--store", default=os.environ.get("GEARBOX_STORE"),
                    help="results store URL: sqlite:PATH, postgres://USER@HOST:PORT/DB or postgresql:///DB?host=DIR "
                         "(default $GEARBOX_STORE, else gearbox's default store)")
    group.addoption("--gearbox", default=None,
                    help="the gearbox binary copied to every board and used for the store "
                         "(default .build/release/gearbox, else .build/debug/gearbox)")
    group.addoption("--portfolio", default=str(REPOSITORY / "Portfolios" / "default"), help="the portfolio folder to profile")
    group.addoption("--places", default=None, help="comma-separated places to profile (default: every target in --lg-env)")
    group.addoption("--only-failed", action="store_true", help="profile only the places whose latest run in the store failed")
    group.addoption("--profile-args", default="--controller real --quick",
                    help="`gearbox profile` arguments (default: the board's cpufreq, CI-sized budget: --controller real --quick)")
    group.addoption("--objective", default="p99<=20ms", help="the latency objective every board is validated against")
    group.addoption("--validate-trace", default="step", help="the frequency trace `gearbox validate` replays")
    group.addoption("--validate-duration", default="10s", help="the validation's length")
    group.addoption("--results", default=str(REPOSITORY / "Reports" / "farm"), help="where each board's fetched results go")
    group.addoption("--remote-dir", default="/tmp/gearbox-farm", help="the folder on each board (one subfolder per place)")
    group.addoption("--step-timeout", type=float, default=1800.0, help="seconds one step may take on a board")


def _is_worker(config):
    return hasattr(config, "workerinput")


def _gearbox(config):
    chosen = config.getoption("--gearbox")
    if chosen:
        return str(Path(chosen).resolve())
    for candidate in (".build/release/gearbox", ".build/debug/gearbox"):
        if os.access(REPOSITORY / candidate, os.X_OK):
            return str(REPOSITORY / candidate)
    raise pytest.UsageError("no gearbox binary: build one (swift build) or pass --gearbox PATH")


def _environment(config):
    environment = config.stash.get(LABGRID_ENV_KEY, None)
    if environment is None:
        raise pytest.UsageError("the farm suite needs a labgrid environment: pytest --lg-env Farm/env.yaml Farm/")
    return environment


def _coordinator_address(config):
    return (config.option.lg_coordinator or _environment(config).config.get_option("coordinator_address", None)
            or os.environ.get("LG_COORDINATOR") or "127.0.0.1:20408")


def _store(config):
    return Store(_gearbox(config), config.getoption("--store"))


def _remote_place_name(environment, target_name):
    resources = environment.config.get_targets()[target_name].get("resources", {})
    if isinstance(resources, dict):
        return resources.get("RemotePlace", {}).get("name", target_name)
    for entry in resources:  # labgrid also accepts a list of single-key mappings
        if "RemotePlace" in entry:
            return entry["RemotePlace"].get("name", target_name)
    return target_name


def _select_places(config):
    """The targets to profile, in the environment file's order."""
    environment = _environment(config)
    targets = list(environment.config.get_targets().keys())
    wanted = config.getoption("--places")
    if wanted:
        names = [name.strip() for name in wanted.split(",") if name.strip()]
        unknown = [name for name in names if name not in targets]
        if unknown:
            raise pytest.UsageError(f"--places: {', '.join(unknown)} not in {environment.config_file}'s targets ({', '.join(targets)})")
        targets = [name for name in targets if name in names]
    if config.getoption("--only-failed"):
        failed = _store(config).failed_boards()
        targets = [name for name in targets if name in failed]
    return targets


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session):
    """The controlling process picks the places and acquires them all before any worker starts
    (tryfirst: xdist starts its workers in its own, trylast, sessionstart)."""
    config = session.config
    if _is_worker(config):
        config.stash[FARM_KEY] = json.loads(config.workerinput["gearbox_farm"])
        return
    environment = _environment(config)
    places = _select_places(config)
    coordinator = Coordinator(_coordinator_address(config))
    unavailable, acquired = {}, []
    for place in places:
        reason = coordinator.acquire(_remote_place_name(environment, place))
        if reason is None:
            acquired.append(place)
        else:
            unavailable[place] = reason
    config.stash[FARM_KEY] = {"places": places, "unavailable": unavailable, "acquired": acquired}


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    """Hands the controller's place list and acquisition failures to each xdist worker."""
    farm = node.config.stash[FARM_KEY]
    node.workerinput["gearbox_farm"] = json.dumps({"places": farm["places"], "unavailable": farm["unavailable"]})


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config):
    """`-n auto`: one worker per place, so every board runs at once (called before labgrid's
    plugin has loaded the environment, so this reads the file itself)."""
    from labgrid import Environment
    targets = list(Environment(config_file=config.option.lg_env).config.get_targets()) if config.option.lg_env else []
    wanted = config.getoption("--places")
    if wanted:
        targets = [name for name in wanted.split(",") if name.strip()]
    return max(1, len(targets))


def pytest_sessionfinish(session):
    config = session.config
    if _is_worker(config) or FARM_KEY not in config.stash:
        return
    environment = _environment(config)
    coordinator = Coordinator(_coordinator_address(config))
    for place in config.stash[FARM_KEY]["acquired"]:
        coordinator.release(_remote_place_name(environment, place))


def pytest_generate_tests(metafunc):
    if "place" in metafunc.fixturenames:
        places = metafunc.config.stash[FARM_KEY]["places"]
        metafunc.parametrize("place", [pytest.param(place, id=place, marks=pytest.mark.xdist_group(place)) for place in places])


@pytest.fixture(scope="session")
def farm_settings(request):
    config = request.config
    results = Path(config.getoption("--results")).resolve()
    return Settings(
        gearbox=_gearbox(config), portfolio=str(Path(config.getoption("--portfolio")).resolve()),
        store=_store(config), results=results, remote_root=config.getoption("--remote-dir"),
        profile_arguments=config.getoption("--profile-args").split(), objective=config.getoption("--objective"),
        trace=config.getoption("--validate-trace"), validate_duration=config.getoption("--validate-duration"),
        step_timeout_seconds=config.getoption("--step-timeout"))


@pytest.fixture(scope="session")
def unavailable_places(request):
    """Places the controller could not acquire, with labgrid's reason."""
    return request.config.stash[FARM_KEY]["unavailable"]


@pytest.fixture(scope="session")
def target_for_place(request):
    """Looks up one place's labgrid target (only that one: a board that is down must not stop
    the others, as the plugin's `env` fixture, which activates every target, would)."""
    environment = _environment(request.config)
    yield environment.get_target
    environment.cleanup()  # closes the SSH control connections
