CREATE TABLE never_reached (id integer);
