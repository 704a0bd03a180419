-- One create-reservation's transaction, as reservation-svc writes it: the
-- row, its history entry and its outbox event (about 400 bytes of
-- protobuf), committed together. No lock: writers do not wait for each other.
\set day random(1, 50)
\set slot random(0, 7)
BEGIN;
INSERT INTO bench_reservations (id, customer_id, contact_name, contact_phone, contact_email,
    party_size, start_time, duration_minutes, end_time, is_peak_hour, status, deposit_amount, deposit_status)
VALUES (gen_random_uuid(), gen_random_uuid(), 'Siti Rahma', '+628123456789', 'siti@example.com', 2,
    date_trunc('day', now()) + make_interval(days => :day, mins => 300 + 30 * :slot), 90,
    date_trunc('day', now()) + make_interval(days => :day, mins => 390 + 30 * :slot), false, 'PENDING', 0, 'NOT_REQUIRED')
RETURNING id \gset
INSERT INTO bench_history (reservation_id, version, action, to_status, note)
VALUES (:id, 1, 'CREATED', 'PENDING', '');
INSERT INTO bench_outbox (aggregate_id, event_type, payload)
VALUES (:id, 'created', decode(repeat('0a24', 200), 'hex'));
COMMIT;
