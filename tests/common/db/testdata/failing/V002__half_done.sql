-- The first statements succeed, the last one fails: none of it may remain.
CREATE TABLE half_done (id integer PRIMARY KEY);
INSERT INTO items (id) VALUES (1);
INSERT INTO no_such_table (id) VALUES (1);
