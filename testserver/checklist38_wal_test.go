package testserver

import (
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// walBounded: through sustained writes from 8 goroutines the WAL stays under twice the
// checkpoint limit (the documented WALBound is twice walLimit); a second without writes
// empties it, and so does opening a database whose WAL a crash left behind.
func walBounded(t *testing.T) {
	oldLimit, oldIdle := walLimit, idleCheckpoint
	walLimit, idleCheckpoint = 1<<20, 200*time.Millisecond
	t.Cleanup(func() { walLimit, idleCheckpoint = oldLimit, oldIdle })

	db := filepath.Join(t.TempDir(), "serve.db")
	e := start(t, func(c *Config) { c.DBPath = db })
	st := e.srv.store.(*store)

	// Sustained writes: 8 writers, 2,500 tokens each (about 30 times the limit in WAL frames
	// without checkpoints), while a sampler records the largest WAL seen.
	var peak atomic.Int64
	stop := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Go(func() {
		for {
			if n := st.walSize(); n > peak.Load() {
				peak.Store(n)
			}
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Microsecond):
			}
		}
	})
	var writers sync.WaitGroup
	var failed atomic.Int64
	for range 8 {
		writers.Go(func() {
			for range 2500 {
				row := &tokenRow{Kind: kindAccess, ClientID: DefaultBootstrapClient, Subject: "s", Scope: "profile", Origin: originClient, ExpiresAt: 1 << 40}
				h := tokenKey(e.srv.newToken())
				if err := st.batch(false, func(tx txn) error { return tx.putToken(h, row) }); err != nil {
					failed.Add(1)
				}
			}
		})
	}
	writers.Wait()
	close(stop)
	sampler.Wait()
	if n := failed.Load(); n > 0 {
		t.Fatalf("%d writes failed", n)
	}
	written := st.walSize()

	// A crash image: the database and its WAL as they are now, copied aside — the WAL first,
	// so that an idle checkpoint between the two copies (a loaded machine) still leaves a
	// consistent image: the WAL's frames replay onto a database they were checkpointed into.
	crash := filepath.Join(t.TempDir(), "crash.db")
	for _, sfx := range []string{"-wal", ""} {
		copyFile(t, db+sfx, crash+sfx)
	}
	crashWAL := fileSize(crash + "-wal")

	time.Sleep(idleCheckpoint + 300*time.Millisecond)
	idle := st.walSize()

	cfg := DefaultConfig()
	cfg.DBPath = crash
	s2, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	restarted := fileSize(crash + "-wal")
	var rows int
	s2.store.(*store).r.QueryRow(`SELECT count(*) FROM tokens`).Scan(&rows)

	t.Logf("WAL: peak %d bytes under sustained writes (limit %d), %d after the run, %d in the crash image, %d after idle, %d after restart",
		peak.Load(), walLimit, written, crashWAL, idle, restarted)
	got := []bool{peak.Load() < 2*walLimit, peak.Load() > walLimit/2, idle == 0, restarted == 0, rows == 8*2500}
	want := []bool{true, true, true, true, true}
	if !equalBools(got, want) {
		t.Errorf("[peak < 2×limit, writes reached the limit, idle empties, restart empties, rows kept (%d)] = %v, want %v", rows, got, want)
	}
}

func equalBools(a, b []bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func fileSize(p string) int64 {
	fi, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return fi.Size()
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
