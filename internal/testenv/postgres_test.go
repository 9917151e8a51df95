package testenv

import (
	"bytes"
	"context"
	"net"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// queryBool runs a query answering one boolean on a connection to url.
func queryBool(t *testing.T, url, query string, args ...any) bool {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	var v bool
	if err := conn.QueryRow(ctx, query, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return v
}

// TestPostgresSchema: the URL selects a new empty schema of its own, a
// table made through it lands there, and the schema is gone once the test
// that made it ends.
func TestPostgresSchema(t *testing.T) {
	base := PostgresURL(t)
	var schema string
	t.Run("make", func(t *testing.T) {
		u := PostgresSchema(t)
		other := PostgresSchema(t)
		if u == other {
			t.Fatalf("two calls returned one URL %s", u)
		}
		parsed, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		schema = parsed.Query().Get("search_path")
		if !strings.HasPrefix(schema, "logbook_test_") {
			t.Fatalf("search_path = %q, want logbook_test_…", schema)
		}
		if !queryBool(t, u, `SELECT current_schema() = $1`, schema) {
			t.Errorf("current_schema() is not %s", schema)
		}
		if queryBool(t, u, `SELECT count(*) > 0 FROM pg_tables WHERE schemaname = current_schema()`) {
			t.Errorf("new schema %s has tables", schema)
		}
		if err := pgExec(u, `CREATE TABLE made (x int)`); err != nil {
			t.Fatal(err)
		}
		if !queryBool(t, u, `SELECT count(*) = 1 FROM pg_tables WHERE schemaname = $1 AND tablename = 'made'`, schema) {
			t.Errorf("a table made through the URL is not in its schema")
		}
	})
	if queryBool(t, base, `SELECT count(*) > 0 FROM pg_namespace WHERE nspname = $1`, schema) {
		t.Errorf("schema %s still exists after its test ended", schema)
	}
}

// TestPostgresDatabase: the URL names a new database, reachable, and the
// database is dropped when the test ends even with a connection still open.
func TestPostgresDatabase(t *testing.T) {
	base := PostgresURL(t)
	var name string
	t.Run("make", func(t *testing.T) {
		u := PostgresDatabase(t)
		parsed, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		name = strings.TrimPrefix(parsed.Path, "/")
		if !queryBool(t, u, `SELECT current_database() = $1`, name) {
			t.Errorf("current_database() is not %s", name)
		}
		conn, err := pgx.Connect(context.Background(), u)
		if err != nil {
			t.Fatal(err)
		}
		// Left open on purpose: the drop must not wait for it.
		t.Cleanup(func() { conn.Close(context.Background()) })
	})
	if queryBool(t, base, `SELECT count(*) > 0 FROM pg_database WHERE datname = $1`, name) {
		t.Errorf("database %s still exists after its test ended", name)
	}
}

// TestPostgresSchemaUnavailable: when nothing answers at
// LOGBOOK_TEST_POSTGRES_URL, making a schema or a database skips the test
// (outside CI) with a reason naming what failed.
func TestPostgresSchemaUnavailable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	t.Setenv("CI", "")
	t.Setenv(postgres.env, "postgres://postgres@"+closed+"/test?sslmode=disable")
	var out bytes.Buffer
	reportTo = &out
	t.Cleanup(func() { reportTo = nil })
	for _, tt := range []struct {
		name string
		make func(testing.TB) string
	}{{"schema", PostgresSchema}, {"database", PostgresDatabase}} {
		got, skipped := outcome(t, func(t *testing.T) string { return tt.make(t) })
		if !skipped || got != "" {
			t.Errorf("%s: returned %q, skipped %v; want a skip", tt.name, got, skipped)
		}
		if want := "PostgreSQL: create " + tt.name + ": connect:"; !strings.Contains(out.String(), want) {
			t.Errorf("%s: reported %q, want a reason with %q", tt.name, out.String(), want)
		}
	}
}
