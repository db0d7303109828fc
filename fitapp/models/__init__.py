"""All models, imported here so Alembic and the app see the whole schema."""
from fitapp.models.administration import InstrumentLabel, RetentionPolicy
from fitapp.models.audit import AuditEvent
from fitapp.models.cases import Attendance, Episode, Participant, Person, Session, SessionRevision
from fitapp.models.catalogue import Intervention, NormParameter, NormSetRecord
from fitapp.models.disclosure import PerturbationTableRecord
from fitapp.models.log_review import LogReview
from fitapp.models.organisation import District, Team, Unit
from fitapp.models.rate_limits import RateLimitCounter
from fitapp.models.ratings import Rating, RatingRevision
from fitapp.models.reports import ReportTarget
from fitapp.models.series import EpisodeSummaryRecord, IndexPersonSummaryRecord, SeriesSummaryRecord
from fitapp.models.staff import Staff, UnitMembership
from fitapp.models.web_sessions import SessionFormDraft, WebSession

__all__ = [
    "AuditEvent", "Attendance", "District", "Episode", "EpisodeSummaryRecord", "IndexPersonSummaryRecord", "InstrumentLabel", "Intervention", "LogReview",
    "NormParameter", "NormSetRecord", "Participant", "PerturbationTableRecord", "Person", "RateLimitCounter", "Rating", "RatingRevision",
    "ReportTarget", "RetentionPolicy", "SeriesSummaryRecord", "Session", "SessionFormDraft", "SessionRevision", "Staff",
    "Team", "Unit", "UnitMembership", "WebSession",
]
