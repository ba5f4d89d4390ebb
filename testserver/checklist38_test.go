package testserver

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// limitPages injects a full disk into the real database: SQLite refuses to grow the file past
// max_page_count pages (SQLITE_FULL, "database or disk is full"), exactly as on a full disk.
// 0 lifts the limit.
func limitPages(t *testing.T, e *env, pages int64) {
	t.Helper()
	st := e.srv.store.(*store)
	if pages == 0 {
		pages = 1 << 30
	}
	if _, err := st.w.Exec(fmt.Sprintf("PRAGMA max_page_count = %d", pages)); err != nil {
		t.Fatal(err)
	}
}

// storageFault503: while the database cannot be written, writes answer 503 with
// Retry-After and a JSON error, reads keep working, and writes work again as soon as the
// storage does, without a restart.
func storageFault503(t *testing.T) {
	e := start(t, func(c *Config) {
		c.DBPath = filepath.Join(t.TempDir(), "serve.db")
		c.Registration = ModeOpen
	})
	a := e.mustRegister(t, ccMetadata)
	boot := e.cfg.Clients[0]
	tok := e.bootstrapToken("dcr")

	var pages int64
	if err := e.srv.store.(*store).w.QueryRow("PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	limitPages(t, e, pages)
	var failed resp
	for i := 0; i < 2000; i++ { // until the free space in the last pages is used up
		if failed = e.register(ccMetadata); failed.Status != 201 {
			break
		}
	}
	reads := []int{
		getJSON(t, e, e.url("/.well-known/openid-configuration")).Status,
		getJSON(t, e, e.url("/jwks")).Status,
		e.jsonReq(http.MethodGet, a.URI, a.RAT, nil).Status,
		e.form("/introspect", url.Values{"token": {tok}}, boot.ClientID, boot.ClientSecret).Status,
	}

	limitPages(t, e, 0)
	recovered := e.register(ccMetadata)

	got := []any{errOf(failed), failed.Header.Get("Retry-After"), failed.Header.Get("Content-Type"), str(failed.Body["error_description"]) != "",
		reads, recovered.Status}
	want := []any{errResult{503, "temporarily_unavailable"}, "5", "application/json", true,
		[]int{200, 200, 200, 200}, 201}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("[write error, Retry-After, type, description; reads; after recovery]\n got  %v\n want %v", got, want)
	}
}

// storageReadOnly503: a database that became read-only (a write is refused by SQLite) also
// gives 503, and writes recover when it is writable again.
func storageReadOnly503(t *testing.T) {
	e := start(t, func(c *Config) {
		c.DBPath = filepath.Join(t.TempDir(), "serve.db")
		c.Registration = ModeOpen
	})
	st := e.srv.store.(*store)
	if _, err := st.w.Exec("PRAGMA query_only = 1"); err != nil {
		t.Fatal(err)
	}
	ro := e.register(ccMetadata)
	st.w.Exec("PRAGMA query_only = 0")
	ok := e.register(ccMetadata)
	if got := [2]any{errOf(ro), ok.Status}; got != [2]any{errResult{503, "temporarily_unavailable"}, 201} {
		t.Errorf("[read-only, after] = %v", got)
	}
}

// storageLost503: a database file deleted under the running server: writes get 503 (not
// 500), reads of what the server holds keep working.
func storageLost503(t *testing.T) {
	db := filepath.Join(t.TempDir(), "serve.db")
	e := start(t, func(c *Config) { c.DBPath = db; c.Registration = ModeOpen })
	for _, sfx := range []string{"", "-wal", "-shm"} {
		os.Remove(db + sfx)
	}
	lost := e.register(ccMetadata)
	disc := getJSON(t, e, e.url("/.well-known/openid-configuration"))
	if got := [2]any{errOf(lost), disc.Status}; got != [2]any{errResult{503, "temporarily_unavailable"}, 200} {
		t.Errorf("[write after the file was deleted, discovery] = %v (%s)", got, lost.Body["error_description"])
	}
}

// checklist38Storage: storage faults give 503 with Retry-After and a JSON error, reads are
// still served, writes recover without a restart; the WAL stays bounded.
func checklist38Storage(t *testing.T) {
	t.Run("38_disk_full_503_reads_work_recovers", storageFault503)
	t.Run("38_read_only_503_recovers", storageReadOnly503)
	t.Run("38_database_deleted_503", storageLost503)
	t.Run("38_wal_bounded_idle_and_restart_shrink", walBounded)
}
