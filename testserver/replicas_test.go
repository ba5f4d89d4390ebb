package testserver

import (
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dcrctl/dcrctl/testserver/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// pgReplicas, while a test sets it (onPostgres), makes every server the helpers start
// (serveHTTPTest, start) run on PostgreSQL — a new database, or the one Config.DBPath names —
// as that many replicas behind one listener that hands requests to them in turn, as a load
// balancer would. A test that chose an SQLite file keeps it and one server.
var pgReplicas int

// onPostgres runs f with the helpers' servers on PostgreSQL, n replicas each.
func onPostgres(t *testing.T, n int, f func(*testing.T)) {
	pgtest.Require(t)
	pgReplicas = n
	defer func() { pgReplicas = 0 }()
	f(t)
}

// balancer is the replicas of one server and the load balancer in front of them.
type balancer struct {
	cfg      Config
	first    *Server // the first replica started (tests' e.srv)
	slots    []atomic.Pointer[Server]
	inflight []atomic.Int64
	next     atomic.Uint64
}

// replicas opens the servers of cfg: one, or pgReplicas on one PostgreSQL database.
func replicas(tb testing.TB, cfg Config) *balancer {
	tb.Helper()
	n := 1
	if pgReplicas > 0 && (cfg.DBPath == "" || IsPostgres(cfg.DBPath)) {
		if cfg.DBPath == "" {
			cfg.DBPath = pgtest.NewDB(tb)
		}
		n = pgReplicas
	}
	b := &balancer{cfg: cfg, slots: make([]atomic.Pointer[Server], n), inflight: make([]atomic.Int64, n)}
	for i := range n {
		srv, err := New(b.replicaConfig(i))
		if err != nil {
			b.close(tb)
			tb.Fatal(err)
		}
		b.slots[i].Store(srv)
	}
	b.first = b.slots[0].Load()
	return b
}

// replicaConfig is the configuration of replica i: with Config.Seed, each replica its own
// random stream, as separate processes would have.
func (b *balancer) replicaConfig(i int) Config {
	c := b.cfg
	if c.Seed != 0 {
		c.Seed += uint64(i)
	}
	return c
}

// testReplicaHeader pins a request to one replica (its index), for tests that say which.
const testReplicaHeader = "X-Test-Replica"

func (b *balancer) handler() http.Handler {
	if len(b.slots) == 1 {
		return b.first
	}
	return b
}

// ServeHTTP hands the request to the next replica that is up (or the pinned one).
func (b *balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if v := r.Header.Get(testReplicaHeader); v != "" {
		i, _ := strconv.Atoi(v)
		if !b.serve(i%len(b.slots), w, r) {
			http.Error(w, "replica down", http.StatusBadGateway)
		}
		return
	}
	first := int((b.next.Add(1) - 1) % uint64(len(b.slots)))
	for k := range len(b.slots) {
		if b.serve((first+k)%len(b.slots), w, r) {
			return
		}
	}
	http.Error(w, "no replica up", http.StatusBadGateway)
}

func (b *balancer) serve(i int, w http.ResponseWriter, r *http.Request) bool {
	b.inflight[i].Add(1)
	defer b.inflight[i].Add(-1)
	srv := b.slots[i].Load()
	if srv == nil {
		return false
	}
	srv.ServeHTTP(w, r)
	return true
}

// restart takes replica i out of the rotation, waits for its requests to finish, closes
// it, and starts a new one in its place: a rolling restart behind a load balancer.
func (b *balancer) restart(tb testing.TB, i int) {
	tb.Helper()
	old := b.slots[i].Swap(nil)
	deadline := time.Now().Add(30 * time.Second)
	for b.inflight[i].Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if err := old.Close(); err != nil {
		tb.Error(err)
	}
	srv, err := New(b.replicaConfig(i))
	if err != nil {
		tb.Fatal(err)
	}
	b.slots[i].Store(srv)
}

func (b *balancer) close(tb testing.TB) {
	for i := range b.slots {
		if srv := b.slots[i].Swap(nil); srv != nil {
			if err := srv.Close(); err != nil {
				tb.Error(err)
			}
		}
	}
}

// TestChecklistPostgres is TestChecklist on one server on PostgreSQL.
func TestChecklistPostgres(t *testing.T) { onPostgres(t, 1, TestChecklist) }

// TestChecklistReplicas is TestChecklist on two replicas on one PostgreSQL database, requests
// alternating between them.
func TestChecklistReplicas(t *testing.T) { onPostgres(t, 2, TestChecklist) }

// TestConcurrentUpdatesReplicas: of concurrent updates of one client split across two
// replicas, with rotation exactly one wins and the others get 401 as from a single server;
// without, all apply.
func TestConcurrentUpdatesReplicas(t *testing.T) {
	onPostgres(t, 2, TestConcurrentUpdatesOfOneClient)
}

// TestOnPostgres runs more of the package's stateful tests on PostgreSQL: each on one server,
// and those without per-process state on two alternating replicas. (The control API's
// faults, template changes and Import act on the replica they reach; a rotated signing key
// reaches the others within a sweeper tick: README "PostgreSQL: several replicas".)
func TestOnPostgres(t *testing.T) {
	shared := map[string]func(*testing.T){
		"ControlDeleteAndExpire": TestControlDeleteAndExpire, "ControlRevoke": TestControlRevoke, "Seed": TestSeed,
		"IDTokenVerifiesWithJWKS": TestIDTokenVerifiesWithJWKS, "Userinfo": TestUserinfo,
		"TemplateInstanceManagement": TestTemplateInstanceManagement, "RefreshScopeAndClientBinding": TestRefreshScopeAndClientBinding,
		"MaxAgeAndDevicePageWithSession": TestMaxAgeAndDevicePageWithSession, "UserModeRegistrationWithDeviceToken": TestUserModeRegistrationWithDeviceToken,
		"PutChangesConfidentiality": TestPutChangesConfidentiality, "BadRegistrationInput": TestBadRegistrationInput,
		"NeverServerError": TestNeverServerError,
	}
	perProcess := map[string]func(*testing.T){
		"ExportImport": TestExportImport, "ControlSigningKey": TestControlSigningKey, "ControlTemplate": TestControlTemplate,
		"ControlFaults": TestControlFaults,
	}
	for name, f := range perProcess {
		t.Run(name+"/1", func(t *testing.T) { onPostgres(t, 1, f) })
	}
	for name, f := range shared {
		t.Run(name+"/1", func(t *testing.T) { onPostgres(t, 1, f) })
		t.Run(name+"/2", func(t *testing.T) { onPostgres(t, 2, f) })
	}
}
