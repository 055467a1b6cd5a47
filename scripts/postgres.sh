#!/usr/bin/env bash
# Sourced by scripts/test.sh: starts a throwaway PostgreSQL cluster on loopback (port 54329,
# data in a temp dir, removed on exit) when PostgreSQL's server binaries are installed, and
# exports JEMPUT_TEST_POSTGRES_URL for the hub's PostgreSQL suite.
# With JEMPUT_REQUIRE_POSTGRES=1 (CI), a missing or failing server is an error.

jemput_pg_start() {
  if [ -n "${JEMPUT_TEST_POSTGRES_URL:-}" ]; then
    echo "PostgreSQL: memakai JEMPUT_TEST_POSTGRES_URL yang sudah diatur"
    return 0
  fi
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    if [ "${JEMPUT_REQUIRE_POSTGRES:-0}" = 1 ]; then
      echo "PostgreSQL server tidak terpasang (jalankan scripts/setup.sh)" >&2
      return 1
    fi
    echo "PostgreSQL server tidak terpasang: uji PostgreSQL hub dilewati (scripts/setup.sh memasangnya)" >&2
    return 0
  fi
  JEMPUT_PG_DIR=$(mktemp -d /tmp/jemput-pg.XXXXXX)
  local as=()
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql postgres
    chown postgres "$JEMPUT_PG_DIR"
    as=(runuser -u postgres --)
  fi
  "${as[@]}" "$bin/initdb" -D "$JEMPUT_PG_DIR/data" -U jemput --auth=trust -E UTF8 >"$JEMPUT_PG_DIR/initdb.log" 2>&1 || { cat "$JEMPUT_PG_DIR/initdb.log" >&2; return 1; }
  "${as[@]}" "$bin/pg_ctl" -D "$JEMPUT_PG_DIR/data" -l "$JEMPUT_PG_DIR/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p 54329 -k $JEMPUT_PG_DIR -c fsync=on -c max_connections=200" start >/dev/null \
    || { cat "$JEMPUT_PG_DIR/server.log" >&2; return 1; }
  JEMPUT_PG_CTL=("${as[@]}" "$bin/pg_ctl" -D "$JEMPUT_PG_DIR/data" -m fast stop)
  trap 'jemput_pg_stop' EXIT
  export JEMPUT_TEST_POSTGRES_URL="postgres://jemput@127.0.0.1:54329/postgres"
  echo "PostgreSQL: server uji berjalan di 127.0.0.1:54329"
}

jemput_pg_stop() {
  if [ -n "${JEMPUT_PG_DIR:-}" ]; then
    "${JEMPUT_PG_CTL[@]}" >/dev/null 2>&1 || true
    rm -rf "$JEMPUT_PG_DIR"
  fi
}
