from fitapp.norms_service import active_norm_set
from fitapp.scoring.norms import PCOMS_2003


def test_active_set_read_from_database_equals_the_builtin_default(app):
    stored = active_norm_set()
    assert stored.key == "pcoms-2003"
    assert stored.rows == PCOMS_2003.rows
    assert stored.lookup("ORS", 17).cutoff == PCOMS_2003.lookup("ORS", 17).cutoff
