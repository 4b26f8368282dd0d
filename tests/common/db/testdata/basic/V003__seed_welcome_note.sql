-- Not idempotent on purpose: running this file twice would leave two rows.
INSERT INTO notes (text, author) VALUES ('welcome', 'system');
