"""The DDI star schema (database alias ``reporting``, PostgreSQL schema ``ddi``)."""

from __future__ import annotations

from reporting.models.batch import SCHEMA_VERSION, EtlBatch
from reporting.models.dimensions import (
    DimApplication,
    DimDate,
    DimDeliveryCycle,
    DimDepartment,
    DimDnaTheme,
    DimJourney,
    DimJourneyStep,
    DimPerson,
    DimRole,
    DimStatus,
)
from reporting.models.facts import (
    BridgeOpportunityApplication,
    BridgeOpportunityDnaTheme,
    FactBenefit,
    FactOpportunity,
    FactOpportunityDaily,
    FactOpportunityStatusSpan,
    FactStatusChange,
    FactSupport,
)

# Every table of the schema, dimensions first (the order of a load and of the data package).
DIMENSIONS = (
    DimDate,
    DimDepartment,
    DimRole,
    DimApplication,
    DimJourney,
    DimJourneyStep,
    DimStatus,
    DimDeliveryCycle,
    DimDnaTheme,
    DimPerson,
)
FACTS = (
    FactOpportunity,
    FactOpportunityStatusSpan,
    FactStatusChange,
    FactSupport,
    FactBenefit,
    BridgeOpportunityDnaTheme,
    BridgeOpportunityApplication,
)
TABLES = DIMENSIONS + FACTS
# Views over the tables: in the schema and the data dictionary, not in the files.
VIEWS = (FactOpportunityDaily,)

__all__ = [
    "DIMENSIONS",
    "FACTS",
    "SCHEMA_VERSION",
    "TABLES",
    "VIEWS",
    "BridgeOpportunityApplication",
    "BridgeOpportunityDnaTheme",
    "DimApplication",
    "DimDate",
    "DimDeliveryCycle",
    "DimDepartment",
    "DimDnaTheme",
    "DimJourney",
    "DimJourneyStep",
    "DimPerson",
    "DimRole",
    "DimStatus",
    "EtlBatch",
    "FactBenefit",
    "FactOpportunity",
    "FactOpportunityDaily",
    "FactOpportunityStatusSpan",
    "FactStatusChange",
    "FactSupport",
]
