-- CreateOrder's idempotency keys move to the shared idempotency_keys table
-- (migrations/idempotency, applied before this service's own): there a key
-- belongs to the account that sent it and to the operation, and keeps the
-- fingerprint of the request it came with, so the same key with another
-- request is refused instead of answered with the first order; and keys
-- expire (IDEMPOTENCY_KEY_TTL_HOURS). The per-order column, its unique
-- index and the advisory lock the service took on keys go.
--
-- Keys sent before this upgrade are not carried over: the old column has no
-- fingerprint to compare a retry with. A retry of such a request after the
-- upgrade makes a new order; the orders themselves are kept as they are.
DROP INDEX orders_idempotency_key;
ALTER TABLE orders DROP COLUMN idempotency_key;
