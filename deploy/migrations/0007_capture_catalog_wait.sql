-- Orders held until the catalog knows their SKUs, and until when.
ALTER TABLE capture.orders ADD COLUMN catalog_deadline timestamptz;
CREATE INDEX order_lines_sku ON capture.order_lines (sku);
