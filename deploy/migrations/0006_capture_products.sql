-- Capture's replica of the catalog (catalog.products, Product.Changed): only
-- what the intake checks need, plus the full record. An update older than the
-- stored one (by event time) never overwrites it.
CREATE TABLE capture.products (
    sku                   text        PRIMARY KEY,
    name                  text        NOT NULL,
    sellable              boolean     NOT NULL,
    discontinued          boolean     NOT NULL DEFAULT false,
    bulky                 boolean     NOT NULL DEFAULT false,
    dangerous_goods_class text,
    minimum_age           integer,
    tax_class             text        NOT NULL,
    data                  json        NOT NULL,
    changed_at            timestamptz NOT NULL,
    source_event_id       text        NOT NULL
);
