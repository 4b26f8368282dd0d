-- Unqualified names land in the service schema: the runner sets search_path.
CREATE TABLE notes (
  id bigserial PRIMARY KEY,
  text text NOT NULL
);
