package pgtest

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

// TestNewDB starts the shared instance and checks that each database is new and empty, and
// reachable at its URL.
func TestNewDB(t *testing.T) {
	a, b := NewDB(t), NewDB(t)
	if a == b {
		t.Fatalf("two databases with one URL %s", a)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var db string
	var tables int
	if err := conn.QueryRow(ctx, `SELECT current_database(), (SELECT count(*) FROM pg_tables WHERE schemaname = 'public')`).Scan(&db, &tables); err != nil {
		t.Fatal(err)
	}
	if "/"+db != pathOf(t, a) || tables != 0 {
		t.Errorf("database %q with %d tables, want %s and none", db, tables, pathOf(t, a))
	}
}

// TestStopStart stops a private instance (connections fail) and starts it again
// (connections work).
func TestStopStart(t *testing.T) {
	in := Private(t)
	dsn, err := in.CreateDB()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ping := func() error {
		c, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return err
		}
		defer c.Close(ctx)
		return c.Ping(ctx)
	}
	if err := ping(); err != nil {
		t.Fatal(err)
	}
	if err := in.StopServer(); err != nil {
		t.Fatal(err)
	}
	if err := ping(); err == nil {
		t.Fatal("connected to a stopped server")
	}
	if err := in.StartServer(); err != nil {
		t.Fatal(err)
	}
	if err := ping(); err != nil {
		t.Fatal(err)
	}
}

func pathOf(t *testing.T, dsn string) string {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	return "/" + cfg.Database
}
