-- The events move into the outbox every service shares (migrations/outbox,
-- applied before this), whose writers take no lock: reservation_events was
-- written under an advisory lock held to commit, which made every write wait
-- for every other.
--
-- Positions and order are kept: each event keeps its position, and its id
-- (the insert order) is set to it. The event's name becomes the field of
-- ReservationEvent's oneof, which is also its NATS subject's last token.
INSERT INTO outbox (id, position, aggregate_id, event_type, payload, created_at)
OVERRIDING SYSTEM VALUE
SELECT position, position, reservation_id,
       CASE event_type
           WHEN 'ReservationCreated' THEN 'created'
           WHEN 'ReservationConfirmed' THEN 'confirmed'
           WHEN 'TableAssigned' THEN 'table_assigned'
           WHEN 'ReservationCheckedIn' THEN 'checked_in'
           WHEN 'ReservationCompleted' THEN 'completed'
           WHEN 'ReservationCancelled' THEN 'cancelled'
           WHEN 'ReservationNoShow' THEN 'no_show'
           WHEN 'DepositPaid' THEN 'deposit_paid'
           WHEN 'DepositRefunded' THEN 'deposit_refunded'
       END,
       payload, created_at
FROM reservation_events
ORDER BY position;

-- New ids continue after the copied ones.
SELECT setval(pg_get_serial_sequence('outbox', 'id'), max(id))
FROM outbox HAVING max(id) IS NOT NULL;

DROP TABLE reservation_events;
