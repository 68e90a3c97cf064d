import pytest

from mra_site.aws import cognito
from routing.selectors import clear_state_cache
from tests.conftest import PRIMARY


@pytest.fixture(autouse=True)
def replication_state_dir(tmp_path, settings):
    """A replication state directory of the test's own: no replicator report (see
    helpers.replicator_reports) outlives the test that wrote it."""
    path = tmp_path / "replication-state"
    path.mkdir()
    settings.MRA_REPLICATION_STATE_DIR = path
    return path


@pytest.fixture
def no_settle(settings):
    settings.MRA_DRAIN_SETTLE_SECONDS = 0
    return settings


@pytest.fixture
def tokens(make_user):
    """{"operator": access token, "member": access token} from the primary pool."""
    make_user("olga", "Correct-horse-1", operator=True)
    make_user("mike", "Correct-horse-1")
    clear_state_cache()
    return {
        "operator": cognito.sign_in(
            region=PRIMARY, username="olga", password="Correct-horse-1"
        ).access_token,
        "member": cognito.sign_in(
            region=PRIMARY, username="mike", password="Correct-horse-1"
        ).access_token,
    }
