-- Status API keys are scoped to one shop (the sales channel its orders came from, e.g. shop/berg-und-beutel); NULL is a
-- key for every shop (customer service), created only with an explicit --all-shops.
ALTER TABLE notifier.api_keys ADD COLUMN shop text;

-- KPI alerts raised, one per KPI and alert period across all notifier copies.
CREATE TABLE notifier.kpi_alerts (
    kpi       text        NOT NULL,
    period    bigint      NOT NULL,
    raised_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kpi, period)
);
