// Package pgtest runs a private PostgreSQL server for tests: initdb in a new temporary
// directory, listening only on a unix socket in that directory, stopped and removed at the
// end. It uses the distribution's binaries (/usr/lib/postgresql/*/bin, or initdb on PATH);
// as root, it runs them as user nobody (initdb refuses to run as root).
//
// A test binary shares one instance (Shared, stopped by Main) and gives each test its own
// database (NewDB); a test that stops the server makes its own (Start). Without PostgreSQL
// a test is skipped, or fails when CI=true.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Instance is a private PostgreSQL server.
type Instance struct {
	dir  string // the socket directory; the data directory is dir/data
	bin  string // the directory of initdb, pg_ctl
	asOS string // the OS user the server runs as; "" for this process's
	n    atomic.Int64
}

// superuser is the database superuser initdb creates.
const superuser = "postgres"

// ErrNoPostgres is Start's error when no PostgreSQL binaries are installed.
var ErrNoPostgres = errors.New("pgtest: no PostgreSQL binaries (initdb, pg_ctl) in /usr/lib/postgresql/*/bin or on PATH: install the postgresql package")

// binDir finds the directory holding initdb and pg_ctl, the newest version first.
func binDir() (string, error) {
	if d := os.Getenv("DCRCTL_PG_BIN"); d != "" {
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(a)))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(b)))
		return vb - va
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "pg_ctl")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", ErrNoPostgres
}

// Start creates and starts a new instance. Close stops it and removes its files.
func Start() (*Instance, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	// A short path: a unix socket's path is limited to ~100 bytes.
	dir, err := os.MkdirTemp("", "pgtest")
	if err != nil {
		return nil, err
	}
	in := &Instance{dir: dir, bin: bin}
	if os.Geteuid() == 0 {
		in.asOS = "nobody"
		u, err := user.Lookup(in.asOS)
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("pgtest: running as root needs user nobody: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	if out, err := in.run("initdb", "-D", in.data(), "-U", superuser, "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("pgtest: initdb: %v: %s", err, out)
	}
	if err := in.StartServer(); err != nil {
		in.Close()
		return nil, err
	}
	return in, nil
}

func (in *Instance) data() string { return filepath.Join(in.dir, "data") }

// run runs a PostgreSQL program as the instance's OS user.
func (in *Instance) run(prog string, args ...string) ([]byte, error) {
	name := filepath.Join(in.bin, prog)
	if in.asOS != "" {
		args = append([]string{"-u", in.asOS, "--", name}, args...)
		name = "runuser"
	}
	cmd := exec.Command(name, args...)
	cmd.Dir = in.dir
	return cmd.CombinedOutput()
}

// StartServer starts the server (again, after StopServer) and waits until it accepts
// connections.
func (in *Instance) StartServer() error {
	opts := fmt.Sprintf("-k %s -c listen_addresses= -c max_connections=300 -c shared_buffers=64MB", in.dir)
	if out, err := in.run("pg_ctl", "-D", in.data(), "-l", filepath.Join(in.dir, "log"), "-o", opts, "-w", "-t", "60", "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(in.dir, "log"))
		return fmt.Errorf("pgtest: pg_ctl start: %v: %s\n%s", err, out, log)
	}
	return nil
}

// StopServer stops the server the way an operator's fast shutdown does (pg_ctl stop -m
// fast): open connections are terminated.
func (in *Instance) StopServer() error {
	if out, err := in.run("pg_ctl", "-D", in.data(), "-m", "fast", "-w", "-t", "60", "stop"); err != nil {
		return fmt.Errorf("pgtest: pg_ctl stop: %v: %s", err, out)
	}
	return nil
}

// Close stops the server and removes its files.
func (in *Instance) Close() {
	if _, err := os.Stat(filepath.Join(in.data(), "postmaster.pid")); err == nil {
		_ = in.StopServer()
	}
	os.RemoveAll(in.dir)
}

// URL is the postgres:// URL of database db.
func (in *Instance) URL(db string) string {
	q := url.Values{"host": {in.dir}, "sslmode": {"disable"}}
	return (&url.URL{Scheme: "postgres", User: url.User(superuser), Path: "/" + db, RawQuery: q.Encode()}).String()
}

// CreateDB creates a new empty database and returns its URL.
func (in *Instance) CreateDB() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, in.URL("postgres"))
	if err != nil {
		return "", fmt.Errorf("pgtest: connect: %w", err)
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("t%d_%d", os.Getpid(), in.n.Add(1))
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("pgtest: create database: %w", err)
	}
	return in.URL(name), nil
}

var (
	sharedOnce sync.Once
	shared     *Instance
	sharedErr  error
)

// Require is the shared instance of this test binary, started on first use; without
// PostgreSQL it skips tb, or fails it when CI=true.
func Require(tb testing.TB) *Instance {
	tb.Helper()
	sharedOnce.Do(func() { shared, sharedErr = Start() })
	check(tb, sharedErr)
	return shared
}

// NewDB is a new database on the shared instance, for one test: its URL.
func NewDB(tb testing.TB) string {
	tb.Helper()
	dsn, err := Require(tb).CreateDB()
	if err != nil {
		tb.Fatal(err)
	}
	return dsn
}

// Private is a new instance for one test (one that stops and starts the server), closed
// when the test ends; skipped or failed as Require.
func Private(tb testing.TB) *Instance {
	tb.Helper()
	in, err := Start()
	check(tb, err)
	tb.Cleanup(in.Close)
	return in
}

func check(tb testing.TB, err error) {
	tb.Helper()
	switch {
	case err == nil:
	case errors.Is(err, ErrNoPostgres) && os.Getenv("CI") != "true":
		tb.Skip(err)
	default:
		tb.Fatal(err)
	}
}

// Main runs the tests and then stops the shared instance: call it from TestMain,
// os.Exit(pgtest.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	if shared != nil {
		shared.Close()
	}
	return code
}
