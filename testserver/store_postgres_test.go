package testserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dcrctl/dcrctl/testserver/internal/pgtest"
)

func TestRedactDB(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/var/lib/dcr/serve.db", "/var/lib/dcr/serve.db"},
		{"postgres://dcr@db.example:5432/dcr?sslmode=require", "postgres://dcr@db.example:5432/dcr?sslmode=require"},
		{"postgres://dcr:hunter2@db.example/dcr", "postgres://dcr:xxxxx@db.example/dcr"},
		{"postgresql://dcr@db.example/dcr?password=hunter2&sslmode=require", "postgresql://dcr@db.example/dcr?password=xxxxx&sslmode=require"},
		{"postgres://dcr:hunter2@db.example/%zz", "postgres://(unparsable URL, not shown)"},
	} {
		if got := RedactDB(tc.in); got != tc.want {
			t.Errorf("RedactDB(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if got, want := DBHasPassword(tc.in), strings.Contains(tc.in, "hunter2"); got != want {
			t.Errorf("DBHasPassword(%q) = %v", tc.in, got)
		}
	}
}

// pgConfig is DefaultConfig on a new PostgreSQL database.
func pgConfig(t *testing.T) Config {
	cfg := DefaultConfig()
	cfg.DBPath = pgtest.NewDB(t)
	return cfg
}

func pgExec(t *testing.T, dsn, q string, args ...any) {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(t.Context(), q, args...); err != nil {
		t.Fatal(err)
	}
}

// TestPostgresReplicasStartTogether starts four servers at once on a new database: the
// migrations run once (no error from a replica racing another's CREATE TABLE), and one
// signing key and one generated static client secret are created and shared.
func TestPostgresReplicasStartTogether(t *testing.T) {
	cfg := pgConfig(t)
	const n = 4
	srvs := make([]*Server, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { srvs[i], errs[i] = New(cfg) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("replica %d: %v", i, errs[i])
		}
		defer srvs[i].Close()
	}
	for i := 1; i < n; i++ {
		if srvs[i].kid != srvs[0].kid || srvs[i].Config().Clients[0].ClientSecret != srvs[0].Config().Clients[0].ClientSecret {
			t.Errorf("replica %d: key id %s, bootstrap secret equal %v; replica 0: key id %s", i, srvs[i].kid,
				srvs[i].Config().Clients[0].ClientSecret == srvs[0].Config().Clients[0].ClientSecret, srvs[0].kid)
		}
	}
	// A restart reads the same key.
	srvs[0].Close()
	again, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if again.kid != srvs[1].kid {
		t.Errorf("after a restart key id %s, want %s", again.kid, srvs[1].kid)
	}
}

func TestPostgresSchemaVersionNewerRefused(t *testing.T) {
	cfg := pgConfig(t)
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	pgExec(t, cfg.DBPath, `UPDATE schema_version SET version = 99`)
	if s, err := New(cfg); err == nil || !strings.Contains(err.Error(), "schema version 99 is newer") {
		if s != nil {
			s.Close()
		}
		t.Errorf("err = %v", err)
	}
}

// TestPostgresUnreachable: a server that cannot reach its database at start fails with an
// error that names the database without its password.
func TestPostgresUnreachable(t *testing.T) {
	in := pgtest.Private(t)
	dsn, err := in.CreateDB()
	if err != nil {
		t.Fatal(err)
	}
	if err := in.StopServer(); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.DBPath = strings.Replace(dsn, "postgres@", "postgres:hunter2@", 1)
	s, err := New(cfg)
	if err == nil {
		s.Close()
		t.Fatal("New succeeded without a database")
	}
	if msg := err.Error(); strings.Contains(msg, "hunter2") || !strings.Contains(msg, "postgres:xxxxx@") || !errors.Is(err, errUnavailable) {
		t.Errorf("err = %v (unavailable: %v)", err, errors.Is(err, errUnavailable))
	}
}

// TestPostgresSweepOneReplica: while one replica holds the sweeper's lock, another's sweep
// deletes nothing; then it does.
func TestPostgresSweepOneReplica(t *testing.T) {
	e := start(t, func(c *Config) { c.DBPath = pgtest.NewDB(t) })
	old := e.bootstrapToken("dcr")
	e.advance(26 * time.Hour)
	fresh := e.bootstrapToken("dcr")
	st := e.srv.store.(*pgStore)

	// Another replica's sweep in progress: its transaction holds the lock.
	tx, err := st.pool.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(t.Context(), `SELECT pg_advisory_xact_lock($1)`, int64(pgLockSweep)); err != nil {
		t.Fatal(err)
	}
	sweepAll := func() {
		cursor := []byte{}
		for range 3 {
			if cursor, err = e.srv.store.sweep(t.Context(), *e.now, cursor); err != nil {
				t.Fatal(err)
			}
		}
	}
	count := func() (n int) {
		if err := st.pool.QueryRow(t.Context(), `SELECT count(*) FROM tokens`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	sweepAll()
	if n := count(); n != 2 {
		t.Errorf("%d tokens after a sweep while another replica sweeps, want 2", n)
	}
	tx.Rollback(t.Context())
	sweepAll()
	oldRow, _ := e.srv.store.token(t.Context(), tokenKey(old))
	freshRow, _ := e.srv.store.token(t.Context(), tokenKey(fresh))
	if got := [3]any{count(), oldRow == nil, freshRow != nil}; got != [3]any{1, true, true} {
		t.Errorf("[rows, old gone, fresh kept] = %v", got)
	}
}

// TestPostgresFault: what pgx returns when the database is unreachable, shutting down or
// overloaded is a storage fault (503); what PostgreSQL says about a statement is not.
func TestPostgresFault(t *testing.T) {
	for _, tc := range []struct {
		err   error
		fault bool
	}{
		{&pgconn.PgError{Code: "57P01", Message: "terminating connection due to administrator command"}, true},
		{&pgconn.PgError{Code: "57P03", Message: "the database system is starting up"}, true},
		{&pgconn.PgError{Code: "08006"}, true},
		{&pgconn.PgError{Code: "53300", Message: "too many connections"}, true},
		{&pgconn.PgError{Code: "25006"}, true},
		{&pgconn.PgError{Code: "40001"}, true},
		{&pgconn.PgError{Code: "23505", Message: "duplicate key"}, false},
		{&pgconn.PgError{Code: "42P01", Message: "relation does not exist"}, false},
		{fmt.Errorf("read: %w", io.ErrUnexpectedEOF), true},
		{&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, true},
		{context.DeadlineExceeded, true},
		{pgx.ErrNoRows, false},
		{nil, false},
	} {
		if got := errors.Is(pgFault(tc.err), errUnavailable); got != tc.fault {
			t.Errorf("pgFault(%v) is a fault: %v, want %v", tc.err, got, tc.fault)
		}
		// What a transaction returns: the same for the driver's errors; a handler's stay.
		if got := errors.Is(pgFault2(tc.err), errUnavailable); got != tc.fault {
			t.Errorf("pgFault2(%v) is a fault: %v, want %v", tc.err, got, tc.fault)
		}
	}
	if err := pgFault2(invalidToken("x")); errors.Is(err, errUnavailable) {
		t.Errorf("a protocol error became a fault: %v", err)
	}
}

// TestPostgresPipelineRefusedStatement: of 64 concurrent single-statement writes grouped into
// batches, the one PostgreSQL refuses (a duplicate key) fails alone; every other is stored.
func TestPostgresPipelineRefusedStatement(t *testing.T) {
	cfg := pgConfig(t)
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st := s.store.(*pgStore)
	if st.pipe == nil {
		t.Fatal("no pipeline")
	}
	row := &tokenRow{Kind: kindAccess, ClientID: "c", Scope: "s", Origin: originClient, ExpiresAt: 1 << 40, Uses: -1}
	dup := hashOf("dup")
	if err := s.store.batch(false, func(tx txn) error { return tx.putToken(dup, row) }); err != nil {
		t.Fatal(err)
	}
	errs := make([]error, 64)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() {
			h := hashOf(fmt.Sprint("t", i))
			if i == 17 {
				h = dup
			}
			errs[i] = s.store.batch(false, func(tx txn) error { return tx.putToken(h, row) })
		})
	}
	wg.Wait()
	var pe *pgconn.PgError
	for i, err := range errs {
		if (i == 17) != (err != nil) || (i == 17 && (!errors.As(err, &pe) || pe.Code != "23505")) {
			t.Errorf("write %d: %v", i, err)
		}
	}
	var n int
	if err := st.pool.QueryRow(t.Context(), `SELECT count(*) FROM tokens`).Scan(&n); err != nil || n != 64 {
		t.Errorf("%d tokens stored (%v), want 64", n, err)
	}
}
