-- Idempotency keys move to the table every service shares
-- (migrations/idempotency, applied before this; service_kit::idempotency),
-- which keeps with each key the fingerprint of the request it came with, so
-- the same key with another request is refused instead of answered with the
-- first reservation. A key there belongs to the account that sent it and
-- expires after IDEMPOTENCY_KEY_TTL_HOURS.
--
-- Keys sent before this upgrade are not carried over: no fingerprint was
-- kept with them, so none could be checked. A retry, after the upgrade, of a
-- request first sent before it is booked as a new reservation.
DROP INDEX reservations_idempotency_key;
ALTER TABLE reservations DROP COLUMN idempotency_key;
