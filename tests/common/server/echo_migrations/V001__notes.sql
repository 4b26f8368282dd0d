CREATE TABLE echo.notes (
  id bigserial PRIMARY KEY,
  text text NOT NULL,
  created_by text NOT NULL,
  create_time timestamptz NOT NULL
);
