-- Which rule and rate files each worker loaded, with their hash and validFrom (omsctl rules history): an auditor
-- sees which rules decided an order. A row per stage and file each time its content changes.
CREATE TABLE oms.rule_loads (
    id         bigserial   PRIMARY KEY,
    stage      text        NOT NULL,
    file       text        NOT NULL,
    sha256     text        NOT NULL,
    valid_from text,
    loaded_by  text        NOT NULL,
    loaded_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rule_loads_by_file ON oms.rule_loads (stage, file, id);
