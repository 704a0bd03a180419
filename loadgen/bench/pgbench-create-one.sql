-- One create-reservation as reservation-svc sends it now: the row, its
-- history entry and its outbox event in one statement (data-modifying
-- CTEs), one round trip, atomic on its own.
\set day random(1, 50)
\set slot random(0, 7)
WITH created AS (
    INSERT INTO bench_reservations (id, customer_id, contact_name, contact_phone, contact_email,
        party_size, start_time, duration_minutes, end_time, is_peak_hour, status, deposit_amount, deposit_status)
    VALUES (gen_random_uuid(), gen_random_uuid(), 'Siti Rahma', '+628123456789', 'siti@example.com', 2,
        date_trunc('day', now()) + make_interval(days => :day, mins => 300 + 30 * :slot), 90,
        date_trunc('day', now()) + make_interval(days => :day, mins => 390 + 30 * :slot), false, 'PENDING', 0, 'NOT_REQUIRED')
    RETURNING *
), history AS (
    INSERT INTO bench_history (reservation_id, version, action, to_status, note)
    SELECT id, version, 'CREATED', status, note FROM created
), event AS (
    INSERT INTO bench_outbox (aggregate_id, event_type, payload)
    SELECT id, 'created', decode(repeat('0a24', 200), 'hex') FROM created
)
SELECT id FROM created;
