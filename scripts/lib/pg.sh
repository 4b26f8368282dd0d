# shellcheck shell=bash
# Shared by scripts/test and scripts/run-local: a private PostgreSQL 15 cluster in a folder,
# on a loopback port, with no system service. Source it; it defines functions only.
#
#   pg_start DIR PORT      initdb (first time) and start; prints nothing on success
#   pg_stop DIR            fast shutdown
#   pg_setup_anken DB_URL  database "anken" with one role and one schema per service
#   pg_free_port           a free loopback TCP port

ANKEN_SERVICES=(customer project billing report scheduler)
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

# PostgreSQL refuses to run as root: as root, run its tools as the postgres user.
_pg_as() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

pg_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

pg_start() {
  local dir=$1 port=$2
  mkdir -p "$dir"
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$dir"; fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    _pg_as "$PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 \
      --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; return 1; }
  fi
  _pg_as "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=400 -c shared_buffers=128MB" \
    start >/dev/null || { tail -20 "$dir/postgres.log" >&2; return 1; }
}

pg_stop() {
  local dir=$1
  [ -f "$dir/data/postmaster.pid" ] || return 0
  _pg_as "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
}

# One database, and per service a login role owning a schema of the same name; each role
# sees only its own schema by default (search_path).
pg_setup_anken() {
  local url=$1
  psql "$url" -v ON_ERROR_STOP=1 -qtAc "SELECT 1 FROM pg_database WHERE datname='anken'" | grep -q 1 ||
    psql "$url" -v ON_ERROR_STOP=1 -qc "CREATE DATABASE anken"
  local anken_url=${url%/*}/anken
  for s in "${ANKEN_SERVICES[@]}"; do
    psql "$anken_url" -v ON_ERROR_STOP=1 -q <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$s') THEN
    CREATE ROLE $s LOGIN;
  END IF;
END \$\$;
CREATE SCHEMA IF NOT EXISTS $s AUTHORIZATION $s;
ALTER ROLE $s SET search_path = $s;
REVOKE ALL ON SCHEMA $s FROM PUBLIC;
SQL
  done
}
