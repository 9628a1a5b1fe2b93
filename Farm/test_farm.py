# One test per place: the board's whole run (copy the binary and the portfolio, probe, profile,
# validate, fetch, push into the store). A failure at any step is pushed to the store as a failed
# run with its step and reason, then fails this board's test only; the other workers go on.

import pytest

from gearbox_farm import BoardRun, StepFailed, one_line


def test_board(place, farm_settings, unavailable_places, target_for_place):
    run = BoardRun(place, farm_settings)
    try:
        if place in unavailable_places:
            run.enter("acquire")
            raise StepFailed("acquire", unavailable_places[place])
        run.execute(target_for_place)
        failure = None
    except StepFailed as stopped:
        failure = stopped
    except Exception as error:  # anything else the suite did not foresee still names its step
        failure = StepFailed(run.step, one_line(error) or type(error).__name__)
    run.write_logs()
    if failure is None:
        run.write_result("ok")
        return
    run.write_result("failed", failure.reason)
    if failure.step != "push":  # a store that refused the push would refuse the failure too
        farm_settings.store.fail(place, failure.step, failure.reason)
    pytest.fail(f"{place} failed at {failure.step}: {failure.reason}", pytrace=False)
