-- Router: fulfillment orders may wait a configurable time before they are
-- released to the warehouse ('pending'), the window in which a cancellation
-- still succeeds.
ALTER TABLE router.fulfillment_orders DROP CONSTRAINT fulfillment_orders_status_check;
ALTER TABLE router.fulfillment_orders ADD CONSTRAINT fulfillment_orders_status_check
    CHECK (status IN ('reserved', 'pending', 'released', 'confirmed', 'cancelled'));
ALTER TABLE router.fulfillment_orders ADD COLUMN release_due timestamptz;
CREATE INDEX fulfillment_orders_release_due ON router.fulfillment_orders (release_due) WHERE status = 'pending';
-- Orders the rules could not route are retried from time to time.
CREATE INDEX orders_held ON router.orders (updated_at) WHERE status = 'held';
