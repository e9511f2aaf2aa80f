"""Forms for submitting an opportunity and taking part in one.

Friendly answers ("A few times a week") are converted here to the numbers the score needs
(occurrences per person per week, and so on); a saved number is shown again as the nearest
friendly answer.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.core import signing

from journeys.models import Application, Department, DnaTheme, Journey, JourneyStep
from opportunities.models import Classification, Opportunity
from opportunities.services.submission import MSG_STEP_JOURNEY

FORM_KEY_SALT = "opportunities.form_key"
FORM_KEY_MAX_AGE = 60 * 60 * 24 * 30

PEOPLE_CHOICES = [
    ("1", "Just me"),
    ("5", "A few people (2 to 9)"),
    ("25", "A team (10 to 49)"),
    ("100", "A station, unit or small department (50 to 249)"),
    ("500", "Several teams or a large department (250 to 999)"),
    ("2000", "Much of the force (1,000 or more)"),
]
FREQUENCY_CHOICES = [
    ("0.1", "A few times a year"),
    ("0.25", "About once a month"),
    ("1", "About once a week"),
    ("3", "A few times a week"),
    ("5", "About once every working day"),
    ("15", "A few times every working day"),
    ("50", "Many times every working day"),
]
MINUTES_CHOICES = [
    ("1", "About a minute"),
    ("5", "About 5 minutes"),
    ("15", "About 15 minutes"),
    ("30", "About half an hour"),
    ("60", "About an hour"),
    ("120", "About 2 hours"),
    ("240", "Half a day or more"),
]
SHOW_NAME_CHOICES = [("yes", "Yes, show my name"), ("no", "No, only the CI team may see it")]

MSG_TITLE_REQUIRED = "Enter a short title"
MSG_TITLE_TOO_LONG = "Title must be 120 characters or fewer"
MSG_PROBLEM_REQUIRED = "Describe what gets in your way"
MSG_TEXT_TOO_LONG = "{label} must be 5,000 characters or fewer"
MSG_JOURNEY_UNKNOWN = "Select a journey from the list, or “Not sure”"
MSG_STEP_UNKNOWN = "Select a step from the list"
MSG_PEOPLE_REQUIRED = "Select how many people it affects"
MSG_FREQUENCY_REQUIRED = "Select how often it happens"
MSG_MINUTES_REQUIRED = "Select roughly how long it takes each time"
MSG_CHOICE_UNKNOWN = "Select one of the options"
MSG_APPLICATIONS_UNKNOWN = "Select applications from the list"
MSG_THEMES_UNKNOWN = "Select themes from the list"
MSG_DEPARTMENT_UNKNOWN = "Select a department from the list"
MSG_CLASSIFICATION_REQUIRED = "Select the security classification"


def nearest_choice(value: Decimal | float | int | None, choices: list[tuple[str, str]]) -> str:
    """The friendly choice nearest (on a log scale) to a stored number; "" for none."""
    if value is None or float(value) <= 0:
        return ""
    target = math.log(float(value))
    return min(choices, key=lambda c: abs(math.log(float(c[0])) - target))[0]


def choice_label(value: Decimal | float | int | None, choices: list[tuple[str, str]]) -> str:
    key = nearest_choice(value, choices)
    return dict(choices).get(key, "Not given")


@dataclass(frozen=True)
class FormKey:
    token: uuid.UUID
    user_id: int | None
    reference: str | None


def form_key_make(*, token: uuid.UUID, user_id: int, reference: str | None = None) -> str:
    return signing.dumps([str(token), user_id, reference], salt=FORM_KEY_SALT, compress=True)


def form_key_read(value: str | None) -> FormKey | None:
    """The form's token and who it was issued to, or None when missing or tampered with."""
    if not value:
        return None
    try:
        token, user_id, reference = signing.loads(
            value, salt=FORM_KEY_SALT, max_age=FORM_KEY_MAX_AGE
        )
        return FormKey(token=uuid.UUID(token), user_id=user_id, reference=reference)
    except (signing.BadSignature, ValueError, TypeError):
        return None


class StepChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: JourneyStep) -> str:
        return f"{obj.position}. {obj.name}"


class OpportunityForm(forms.Form):
    """The submission form. ``draft=True`` makes every answer optional (saving a draft)."""

    title = forms.CharField(
        max_length=120,
        error_messages={"required": MSG_TITLE_REQUIRED, "max_length": MSG_TITLE_TOO_LONG},
    )
    problem = forms.CharField(
        max_length=5000,
        widget=forms.Textarea,
        error_messages={
            "required": MSG_PROBLEM_REQUIRED,
            "max_length": MSG_TEXT_TOO_LONG.format(label="What gets in your way"),
        },
    )
    better = forms.CharField(
        max_length=5000,
        required=False,
        widget=forms.Textarea,
        error_messages={"max_length": MSG_TEXT_TOO_LONG.format(label="What would be better")},
    )
    journey = forms.ModelChoiceField(
        queryset=Journey.objects.filter(is_active=True).order_by("name"),
        required=False,
        empty_label="Not sure",
        error_messages={"invalid_choice": MSG_JOURNEY_UNKNOWN},
    )
    step = StepChoiceField(
        queryset=JourneyStep.objects.filter(retired_at__isnull=True).select_related("journey"),
        required=False,
        empty_label="Not sure",
        error_messages={"invalid_choice": MSG_STEP_UNKNOWN},
    )
    applications = forms.ModelMultipleChoiceField(
        queryset=Application.objects.exclude(lifecycle=Application.Lifecycle.DECOMMISSIONED),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "invalid_choice": MSG_APPLICATIONS_UNKNOWN,
            "invalid_pk_value": MSG_APPLICATIONS_UNKNOWN,
        },
    )
    people = forms.ChoiceField(
        choices=PEOPLE_CHOICES,
        widget=forms.RadioSelect,
        error_messages={"required": MSG_PEOPLE_REQUIRED, "invalid_choice": MSG_CHOICE_UNKNOWN},
    )
    frequency = forms.ChoiceField(
        choices=FREQUENCY_CHOICES,
        widget=forms.RadioSelect,
        error_messages={"required": MSG_FREQUENCY_REQUIRED, "invalid_choice": MSG_CHOICE_UNKNOWN},
    )
    minutes = forms.ChoiceField(
        choices=MINUTES_CHOICES,
        widget=forms.RadioSelect,
        error_messages={"required": MSG_MINUTES_REQUIRED, "invalid_choice": MSG_CHOICE_UNKNOWN},
    )
    department = forms.ModelChoiceField(
        queryset=Department.objects.filter(is_active=True),
        required=False,
        empty_label="Choose a department",
        error_messages={"invalid_choice": MSG_DEPARTMENT_UNKNOWN},
    )
    dna_themes = forms.ModelMultipleChoiceField(
        queryset=DnaTheme.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "invalid_choice": MSG_THEMES_UNKNOWN,
            "invalid_pk_value": MSG_THEMES_UNKNOWN,
        },
    )
    classification = forms.ChoiceField(
        choices=Classification.choices,
        initial=Classification.OFFICIAL,
        widget=forms.RadioSelect,
        error_messages={
            "required": MSG_CLASSIFICATION_REQUIRED,
            "invalid_choice": MSG_CHOICE_UNKNOWN,
        },
    )
    show_name = forms.ChoiceField(
        choices=SHOW_NAME_CHOICES,
        initial="yes",
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": MSG_CHOICE_UNKNOWN},
    )

    # The service's field names, for errors the service raises.
    SERVICE_FIELDS = {
        "people_affected": "people",
        "frequency_per_week": "frequency",
        "minutes_per_occurrence": "minutes",
        "journey_id": "journey",
        "step_id": "step",
        "department_id": "department",
    }

    def __init__(self, *args: Any, draft: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.draft = draft
        if draft:
            for form_field in self.fields.values():
                form_field.required = False

    @classmethod
    def initial_from(cls, opp: Opportunity | None, *, user: Any) -> dict[str, Any]:
        if opp is None:
            return {
                "classification": Classification.OFFICIAL,
                "show_name": "yes",
                "department": getattr(user, "department_id", None),
            }
        return {
            "title": opp.title,
            "problem": opp.problem,
            "better": opp.better,
            "journey": opp.journey_id,
            "step": opp.step_id,
            "applications": [a.pk for a in opp.applications.all()],
            "people": nearest_choice(opp.people_affected, PEOPLE_CHOICES),
            "frequency": nearest_choice(opp.frequency_per_week, FREQUENCY_CHOICES),
            "minutes": nearest_choice(opp.minutes_per_occurrence, MINUTES_CHOICES),
            "department": opp.department_id,
            "dna_themes": [t.pk for t in opp.dna_themes.all()],
            "classification": opp.classification,
            "show_name": "yes" if opp.show_submitter_name else "no",
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        step, journey = data.get("step"), data.get("journey")
        if step is not None and "journey" not in self.errors:
            if journey is None and not self.data.get("journey"):
                # "Not sure" of the journey but a step chosen: the step says which journey.
                data["journey"] = step.journey
            elif journey is not None and step.journey_id != journey.pk:
                self.add_error("step", MSG_STEP_JOURNEY)
        return data

    def service_values(self) -> dict[str, Any]:
        """The valid answers, named as the service wants them. Invalid ones are left out
        (a draft keeps their last saved value; the form shows what was typed)."""
        data = self.cleaned_data
        mapping: dict[str, tuple[str, Any]] = {
            "title": ("title", lambda v: v or ""),
            "problem": ("problem", lambda v: v or ""),
            "better": ("better", lambda v: v or ""),
            "journey": ("journey_id", lambda v: v.pk if v else None),
            "step": ("step_id", lambda v: v.pk if v else None),
            "applications": ("application_ids", lambda v: [a.pk for a in v or []]),
            "people": ("people_affected", lambda v: int(v) if v else None),
            "frequency": ("frequency_per_week", lambda v: Decimal(v) if v else None),
            "minutes": ("minutes_per_occurrence", lambda v: Decimal(v) if v else None),
            "department": ("department_id", lambda v: v.pk if v else None),
            "dna_themes": ("theme_ids", lambda v: [t.pk for t in v or []]),
            "classification": ("classification", lambda v: v or Classification.OFFICIAL),
            "show_name": ("show_submitter_name", lambda v: v != "no"),
        }
        values: dict[str, Any] = {}
        for name, (target, convert) in mapping.items():
            if name in data and name not in self.errors:
                values[target] = convert(data[name])
        if "step" in self.errors or "journey" in self.errors:
            values.pop("step_id", None)
            values.pop("journey_id", None)
        return values

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        for name, messages in errors.items():
            target = self.SERVICE_FIELDS.get(name, name)
            for message in messages:
                self.add_error(target if target in self.fields else None, message)

    # --- Rendering help: GOV.UK markup is written by hand in the templates -----------------

    def options(self, name: str) -> list[dict[str, Any]]:
        """Choices of a radios/checkboxes/select field with their checked state."""
        bound = self[name]
        value = bound.value()
        selected = {str(v) for v in value} if isinstance(value, list | tuple) else {str(value)}
        hints = {}
        if name == "dna_themes":
            hints = {str(t.pk): t.hint for t in self.fields[name].queryset}
        items = []
        for index, (key, label) in enumerate(self.fields[name].choices):
            key = str(getattr(key, "value", key))
            if key == "" and name in ("journey", "department", "step"):
                items.append({"value": "", "label": label, "checked": value in (None, "", [])})
                continue
            items.append(
                {
                    "value": key,
                    "label": label,
                    "checked": key in selected,
                    "id": f"{name}" if index == 0 else f"{name}-{index + 1}",
                    "hint": hints.get(key, ""),
                }
            )
        return items

    def steps_by_journey(self) -> list[tuple[Journey, list[JourneyStep]]]:
        """Steps grouped by journey (the no-JavaScript list shows them all)."""
        groups: dict[int, tuple[Journey, list[JourneyStep]]] = {}
        for step in self.fields["step"].queryset.order_by("journey__name", "position"):
            groups.setdefault(step.journey_id, (step.journey, []))[1].append(step)
        return list(groups.values())

    def error_list(self) -> list[tuple[str, str]]:
        """(anchor, message) pairs for the error summary, in the order of the form."""
        anchors = {
            "applications": "applications",
            "people": "people",
            "frequency": "frequency",
            "minutes": "minutes",
            "dna_themes": "dna_themes",
            "classification": "classification",
            "show_name": "show_name",
        }
        items = [("title", str(m)) for m in self.non_field_errors()]
        for name in self.fields:
            for message in self.errors.get(name, []):
                items.append((anchors.get(name, name), str(message)))
        return items


class CommentForm(forms.Form):
    body = forms.CharField(
        max_length=5000,
        widget=forms.Textarea,
        strip=True,
        error_messages={
            "required": "Write a comment",
            "max_length": "Comments must be 5,000 characters or fewer",
        },
    )


class HideCommentForm(forms.Form):
    reason = forms.CharField(
        max_length=200,
        strip=True,
        error_messages={
            "required": "Say why the comment is being hidden",
            "max_length": "The reason must be 200 characters or fewer",
        },
    )
