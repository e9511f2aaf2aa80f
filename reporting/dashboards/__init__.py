"""MI dashboards for managers, the CI team and admins, read from the DDI star schema (``ddi``).

Every figure comes from the same tables DDI receives, through one SQL statement per section
(``selectors/``), inside one read-only snapshot per request, so the "as of" caption and the
figures always describe the same batch.
"""
