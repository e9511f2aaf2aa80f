FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
RUN useradd --system --create-home synergy
COPY pyproject.toml README.md ./
COPY synergy_portal ./synergy_portal
COPY journeys ./journeys
COPY opportunities ./opportunities
COPY reporting ./reporting
RUN pip install --no-cache-dir .
COPY . .
RUN DEBUG=1 DATABASE_URL=postgres://build@localhost/build REDIS_URL=redis://localhost:6379/0 \
    python manage.py collectstatic --noinput
USER synergy
EXPOSE 8000
CMD ["gunicorn", "synergy_portal.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
