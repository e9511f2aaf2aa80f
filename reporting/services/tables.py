"""The reporting tables as the extract files and the data dictionary describe them, read from
the models, so files, Table Schemas and documentation cannot drift from the database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from django.db import connections, models

from reporting.models import DIMENSIONS, TABLES
from synergy_portal.db.routers import REPORTING_ALIAS


@dataclass(frozen=True)
class Column:
    name: str
    field: models.Field
    arrow: pa.DataType
    table_schema_type: str
    required: bool

    @property
    def db_type(self) -> str:
        return str(self.field.db_type(connections[REPORTING_ALIAS]))

    @property
    def description(self) -> str:
        return str(self.field.help_text)


def _arrow_and_schema_type(field: models.Field) -> tuple[pa.DataType, str]:
    if isinstance(field, models.BigIntegerField):
        return pa.int64(), "integer"
    if isinstance(field, models.SmallIntegerField):
        return pa.int16(), "integer"
    if isinstance(field, models.IntegerField):
        return pa.int32(), "integer"
    if isinstance(field, models.BooleanField):
        return pa.bool_(), "boolean"
    if isinstance(field, models.DecimalField):
        return pa.decimal128(field.max_digits, field.decimal_places), "number"
    if isinstance(field, models.FloatField):
        return pa.float64(), "number"
    if isinstance(field, models.DateTimeField):
        return pa.timestamp("us", tz="UTC"), "datetime"
    if isinstance(field, models.DateField):
        return pa.date32(), "date"
    if isinstance(field, models.JSONField):
        return pa.string(), "object"
    if isinstance(field, models.UUIDField):
        return pa.string(), "string"
    if isinstance(field, models.CharField | models.TextField):
        return pa.string(), "string"
    raise TypeError(f"No file type for {field!r}")


@dataclass(frozen=True)
class Table:
    model: type[models.Model]

    @property
    def name(self) -> str:
        return str(self.model._meta.db_table)

    @property
    def is_dimension(self) -> bool:
        return self.model in DIMENSIONS

    @property
    def description(self) -> str:
        return " ".join((self.model.__doc__ or "").split())

    @property
    def columns(self) -> list[Column]:
        columns = []
        for field in self.model._meta.concrete_fields:
            arrow, schema_type = _arrow_and_schema_type(field)
            # An empty string and a missing value look alike to CSV readers, so only columns
            # that can never be empty are "required" in the Table Schema.
            required = not field.null and schema_type != "string"
            columns.append(Column(field.column, field, arrow, schema_type, required))
        return columns

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    @property
    def primary_key(self) -> list[str]:
        return [field.column for field in self.model._meta.pk_fields]

    def arrow_schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, c.arrow, nullable=not c.required) for c in self.columns])

    def table_schema(self) -> dict[str, Any]:
        """Frictionless Table Schema of the table's CSV file."""
        fields = []
        for column in self.columns:
            item: dict[str, Any] = {
                "name": column.name,
                "type": column.table_schema_type,
                "description": column.description,
            }
            if column.name == "batch_id":
                item["format"] = "uuid"
            if column.required:
                item["constraints"] = {"required": True}
            fields.append(item)
        return {"fields": fields, "primaryKey": self.primary_key, "missingValues": [""]}


def reporting_tables() -> list[Table]:
    return [Table(model) for model in TABLES]
