-- The generated keys are computed from NOT NULL columns, so they are never
-- null; say so, so that the schema states what diesel's schema.rs (and
-- every query that reads them) assumes. Found by the schema drift test.
ALTER TABLE movies ALTER COLUMN genre_keys SET NOT NULL;
ALTER TABLE showtimes ALTER COLUMN auditorium_key SET NOT NULL;
