package testserver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	sqlite "modernc.org/sqlite" // the pure-Go SQLite driver "sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// The schema keeps writes cheap: a registration writes one B-tree (clients, keyed by id), a
// client credentials token one (tokens, keyed by hash). Nothing is indexed by client or by
// expiry: a deleted client's tokens die because every token check also finds its client, and
// the sweeper walks the tokens table in key order, a bounded chunk at a time, deleting what
// has expired.
//
// schemaVersion is stored in PRAGMA user_version. Migrations run in order from the stored
// version up; a database from a newer dcrctl is refused.
const schemaVersion = 1

var migrations = []string{
	// 0 → 1
	`CREATE TABLE meta (k TEXT PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID;
	CREATE TABLE clients (
		id TEXT PRIMARY KEY,
		secret_hash BLOB,
		secret_expires_at INTEGER NOT NULL DEFAULT 0,
		issued_at INTEGER NOT NULL,
		rat_hash BLOB,
		template TEXT NOT NULL DEFAULT '',
		metadata TEXT NOT NULL,
		owner TEXT NOT NULL DEFAULT ''
	) WITHOUT ROWID;
	CREATE TABLE tokens (
		hash BLOB PRIMARY KEY,
		kind INTEGER NOT NULL,
		client_id TEXT NOT NULL,
		grant_id BLOB,
		subject TEXT NOT NULL,
		scope TEXT NOT NULL,
		origin INTEGER NOT NULL,
		issued_at INTEGER NOT NULL,
		expires_at INTEGER NOT NULL,
		uses INTEGER NOT NULL,
		revoked INTEGER NOT NULL DEFAULT 0,
		data TEXT NOT NULL DEFAULT ''
	) WITHOUT ROWID;
	CREATE INDEX tokens_grant ON tokens(grant_id) WHERE grant_id IS NOT NULL;
	CREATE TABLE sessions (
		hash BLOB PRIMARY KEY,
		username TEXT NOT NULL,
		auth_time INTEGER NOT NULL,
		expires_at INTEGER NOT NULL
	) WITHOUT ROWID;
	CREATE TABLE devices (
		hash BLOB PRIMARY KEY,
		user_code BLOB NOT NULL UNIQUE,
		client_id TEXT NOT NULL,
		scope TEXT NOT NULL,
		expires_at INTEGER NOT NULL,
		interval INTEGER NOT NULL,
		last_poll INTEGER NOT NULL DEFAULT 0,
		status INTEGER NOT NULL DEFAULT 0,
		subject TEXT NOT NULL DEFAULT '',
		auth_time INTEGER NOT NULL DEFAULT 0
	) WITHOUT ROWID;`,
}

// store is the SQLite storage. Writes go through one connection (SQLite has one writer at a
// time; queuing in database/sql is cheaper than SQLITE_BUSY retries), reads through a pool
// of connections that WAL lets run beside the writer. An in-memory database has one
// connection for both.
type store struct {
	w, r *sql.DB

	// The group committer: hot-path writes (tokens, registrations) queue here and one
	// goroutine runs everything queued in one transaction, so that concurrent requests share
	// a commit instead of waiting for each other's. Each caller still gets its answer only
	// after the commit.
	jobs       chan *writeJob
	mu         sync.RWMutex
	closed     bool
	stopWriter chan struct{}
	writerDone chan struct{}

	checkpointDone chan struct{}

	// WAL bounding (file databases only; see truncateWAL). The writer goroutine alone
	// touches walDirty.
	path           string
	walLimit       int64         // TRUNCATE checkpoint after a commit that leaves the WAL larger
	idleCheckpoint time.Duration // TRUNCATE checkpoint after this long without writes
	walDirty       bool          // writes since the last TRUNCATE checkpoint
	file           os.FileInfo   // the database file as opened, to notice it being deleted
	// ckpt serialises checkpoints: SQLite answers a TRUNCATE checkpoint with SQLITE_BUSY at
	// once while another connection's checkpoint runs, so the writer would skip its bound.
	ckpt sync.Mutex

	getClient, insertToken, getToken *sql.Stmt
	insertClient, useToken           *sql.Stmt
}

// The WAL bound: a commit that leaves the WAL larger than walLimit is followed by a TRUNCATE
// checkpoint on the writer's connection, which holds new writes (they queue) while it copies
// the WAL into the database and empties it. Under sustained writes the WAL therefore stays
// below walLimit plus one group commit (at most 256 jobs), documented as WALBound. Passive
// checkpoints every 500 ms keep the copying small; an idle second or a restart empties the WAL.
//
// They are variables for tests only.
var (
	walLimit       int64 = WALBound / 2
	idleCheckpoint       = time.Second
)

// WALBound is the size the SQLite write-ahead log stays under through sustained writes: a
// TRUNCATE checkpoint runs when it passes half of this. Idle time (a second without writes)
// or a restart shrinks it to zero.
const WALBound = 64 << 20

func openStore(ctx context.Context, path string) (*store, error) {
	s := &store{path: path, walLimit: walLimit, idleCheckpoint: idleCheckpoint}
	if path == "" {
		db, err := sql.Open("sqlite", "file::memory:?_pragma=foreign_keys(1)&_txlock=immediate")
		if err != nil {
			return nil, err
		}
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
		db.SetConnMaxLifetime(0)
		db.SetConnMaxIdleTime(0)
		s.w, s.r = db, db
	} else {
		if err := prepareFiles(path); err != nil {
			return nil, err
		}
		u := url.URL{Scheme: "file", Opaque: path}
		q := "_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)"
		// The writer never checkpoints: checkpointer does, beside it, so that no commit
		// waits for a checkpoint's copying and fsync.
		w, err := sql.Open("sqlite", u.String()+"?"+q+"&_pragma=wal_autocheckpoint(0)&_txlock=immediate")
		if err != nil {
			return nil, err
		}
		w.SetMaxOpenConns(1)
		w.SetMaxIdleConns(1)
		w.SetConnMaxIdleTime(0)
		r, err := sql.Open("sqlite", u.String()+"?"+q)
		if err != nil {
			w.Close()
			return nil, err
		}
		r.SetMaxOpenConns(8)
		r.SetMaxIdleConns(8)
		s.w, s.r = w, r
	}
	if err := s.migrate(ctx); err != nil {
		s.close()
		return nil, err
	}
	if err := s.prepare(ctx); err != nil {
		s.close()
		return nil, err
	}
	if path != "" {
		fi, err := os.Stat(path)
		if err != nil {
			s.close()
			return nil, err
		}
		s.file = fi
		// A WAL left by a crash (or a version without the bound) is replayed by SQLite
		// on open; empty it now, before serving.
		s.walDirty = true
		s.truncateWAL()
	}
	s.jobs = make(chan *writeJob, 256)
	s.stopWriter = make(chan struct{})
	s.writerDone = make(chan struct{})
	go s.writer()
	s.checkpointDone = make(chan struct{})
	if path != "" {
		go s.checkpointer()
	} else {
		close(s.checkpointDone)
	}
	return s, nil
}

// prepareFiles creates the database's directory (0700) and file (0600) if they do not exist,
// and makes an existing database, WAL and shared-memory file readable only by the user: the
// database holds the signing key and generated client secrets in clear. SQLite creates the
// WAL and shared-memory files with the database file's permissions.
func prepareFiles(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create the database directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("make %s readable only by its owner: %w", p, err)
		}
	}
	return nil
}

func (s *store) close() error {
	if s.jobs != nil {
		s.mu.Lock()
		already := s.closed
		s.closed = true
		s.mu.Unlock()
		if !already {
			close(s.stopWriter)
			<-s.writerDone
			<-s.checkpointDone
		}
	}
	err := s.w.Close()
	if s.r != s.w {
		err = errors.Join(err, s.r.Close())
	}
	return err
}

func (s *store) migrate(ctx context.Context) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var v int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return err
	}
	if v > schemaVersion {
		return fmt.Errorf("database schema version %d is newer than this dcrctl understands (%d): upgrade dcrctl or use another --db", v, schemaVersion)
	}
	for ; v < schemaVersion; v++ {
		if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
			return fmt.Errorf("migrate schema to version %d: %w", v+1, err)
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", schemaVersion)); err != nil {
		return err
	}
	return tx.Commit()
}

const clientCols = `id, secret_hash, secret_expires_at, issued_at, rat_hash, template, metadata, owner`

func (s *store) prepare(ctx context.Context) error {
	var err error
	p := func(db *sql.DB, q string) *sql.Stmt {
		if err != nil {
			return nil
		}
		var st *sql.Stmt
		st, err = db.PrepareContext(ctx, q)
		return st
	}
	s.getClient = p(s.r, `SELECT `+clientCols+` FROM clients WHERE id = ?`)
	s.insertClient = p(s.w, `INSERT INTO clients (`+clientCols+`) VALUES (?,?,?,?,?,?,?,?)`)
	s.useToken = p(s.w, `UPDATE tokens SET uses = uses - 1 WHERE hash = ? AND uses > 0`)
	s.getToken = p(s.r, `SELECT `+tokenCols+` FROM tokens WHERE hash = ?`)
	s.insertToken = p(s.w, `INSERT INTO tokens (hash, kind, client_id, grant_id, subject, scope, origin, issued_at, expires_at, uses, data) VALUES (?,?,?,?,?,?,?,?,?,?,?)`)
	return err
}

type scanner interface{ Scan(...any) error }

func scanClient(r scanner) (*clientRow, error) {
	c := &clientRow{}
	err := r.Scan(&c.ID, &c.SecretHash, &c.SecretExpiresAt, &c.IssuedAt, &c.RATHash, &c.Template, &c.Metadata, &c.Owner)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// client returns the registered client, or nil.
func (s *store) client(ctx context.Context, id string) (*clientRow, error) {
	ctx = quick(ctx)
	c, err := scanClient(s.getClient.QueryRowContext(ctx, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return c, fault(err)
}

func (s *store) token(ctx context.Context, hash []byte) (*tokenRow, error) {
	t, err := scanToken(s.getToken.QueryRowContext(quick(ctx), hash))
	return t, fault(err)
}

const tokenCols = `kind, client_id, grant_id, subject, scope, origin, issued_at, expires_at, uses, revoked, data`

func scanToken(r scanner) (*tokenRow, error) {
	t := &tokenRow{}
	err := r.Scan(&t.Kind, &t.ClientID, &t.GrantID, &t.Subject, &t.Scope, &t.Origin, &t.IssuedAt, &t.ExpiresAt, &t.Uses, &t.Revoked, &t.Data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return t, err
}

func (s *store) session(ctx context.Context, hash []byte) (*sessionRow, error) {
	si := &sessionRow{}
	err := s.r.QueryRowContext(quick(ctx), `SELECT username, auth_time, expires_at FROM sessions WHERE hash = ?`, hash).Scan(&si.Username, &si.AuthTime, &si.ExpiresAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return si, fault(err)
}

func (s *store) deviceByUserCode(ctx context.Context, userCodeHash []byte) (*deviceRow, error) {
	d, err := scanDevice(s.r.QueryRowContext(quick(ctx), `SELECT `+deviceCols+` FROM devices WHERE user_code = ?`, userCodeHash))
	return d, fault(err)
}

const deviceCols = `hash, user_code, client_id, scope, subject, expires_at, interval, last_poll, status, auth_time`

func scanDevice(r scanner) (*deviceRow, error) {
	d := &deviceRow{}
	err := r.Scan(&d.hash, &d.userCodeHash, &d.clientID, &d.scope, &d.subject, &d.expiresAt, &d.interval, &d.lastPoll, &d.status, &d.authTime)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return d, err
}

// update runs fn as a multi-statement job of the next group commit: under its own savepoint,
// so that its error undoes it alone. Every write goes through the writer goroutine, which is
// what lets it bound the WAL.
func (s *store) update(ctx context.Context, fn func(txn) error) error {
	return s.batch(true, fn)
}

func (s *store) batch(multi bool, fn func(txn) error) error {
	return s.write(multi, func(ctx context.Context, tx *sql.Tx) error { return fn(&sqlTxn{ctx: ctx, tx: tx, s: s}) })
}

var _ storage = (*store)(nil)

// sqlTxn is a txn on SQLite.
type sqlTxn struct {
	ctx context.Context
	tx  *sql.Tx
	s   *store
}

var _ txn = (*sqlTxn)(nil)

func (t *sqlTxn) exec(q string, args ...any) (int64, error) {
	res, err := t.tx.ExecContext(t.ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (t *sqlTxn) client(id string) (*clientRow, error) {
	c, err := scanClient(t.tx.QueryRowContext(t.ctx, `SELECT `+clientCols+` FROM clients WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return c, err
}

func (t *sqlTxn) putClient(c *clientRow) error {
	_, err := t.tx.StmtContext(t.ctx, t.s.insertClient).ExecContext(t.ctx,
		c.ID, c.SecretHash, c.SecretExpiresAt, c.IssuedAt, c.RATHash, c.Template, c.Metadata, c.Owner)
	return err
}

func (t *sqlTxn) putClientFor(c *clientRow, _ []byte) (bool, error) {
	return true, t.putClient(c)
}

func (t *sqlTxn) updateClient(c *clientRow) error {
	_, err := t.exec(`UPDATE clients SET secret_hash=?, secret_expires_at=?, rat_hash=?, template=?, metadata=? WHERE id=?`,
		c.SecretHash, c.SecretExpiresAt, c.RATHash, c.Template, c.Metadata, c.ID)
	return err
}

func (t *sqlTxn) deleteClient(id string) error {
	_, err := t.exec(`DELETE FROM clients WHERE id = ?`, id)
	return err
}

func (t *sqlTxn) clearRAT(id string, hash []byte) error {
	_, err := t.exec(`UPDATE clients SET rat_hash = NULL WHERE id = ? AND rat_hash = ?`, id, hash)
	return err
}

func (t *sqlTxn) token(hash []byte) (*tokenRow, error) {
	return scanToken(t.tx.QueryRowContext(t.ctx, `SELECT `+tokenCols+` FROM tokens WHERE hash = ?`, hash))
}

func (t *sqlTxn) putToken(hash []byte, r *tokenRow) error {
	_, err := t.tx.StmtContext(t.ctx, t.s.insertToken).ExecContext(t.ctx,
		hash, r.Kind, r.ClientID, r.GrantID, r.Subject, r.Scope, r.Origin, r.IssuedAt, r.ExpiresAt, r.Uses, r.Data)
	return err
}

func (t *sqlTxn) useToken(hash []byte) (bool, error) {
	res, err := t.tx.StmtContext(t.ctx, t.s.useToken).ExecContext(t.ctx, hash)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

func (t *sqlTxn) revokeToken(hash []byte) (bool, error) {
	n, err := t.exec(`UPDATE tokens SET revoked = 1 WHERE hash = ? AND revoked = 0`, hash)
	return n > 0, err
}

func (t *sqlTxn) revokeGrant(grantID []byte) error {
	_, err := t.exec(`UPDATE tokens SET revoked = 1 WHERE grant_id = ?`, grantID)
	return err
}

func (t *sqlTxn) putSession(hash []byte, s *sessionRow) error {
	_, err := t.exec(`INSERT INTO sessions (hash, username, auth_time, expires_at) VALUES (?,?,?,?)`,
		hash, s.Username, s.AuthTime, s.ExpiresAt)
	return err
}

func (t *sqlTxn) deleteSession(hash []byte) error {
	_, err := t.exec(`DELETE FROM sessions WHERE hash = ?`, hash)
	return err
}

func (t *sqlTxn) putDevice(d *deviceRow) error {
	_, err := t.exec(`INSERT INTO devices (hash, user_code, client_id, scope, expires_at, interval) VALUES (?,?,?,?,?,?)`,
		d.hash, d.userCodeHash, d.clientID, d.scope, d.expiresAt, d.interval)
	if err != nil && strings.Contains(err.Error(), "UNIQUE") {
		return errDuplicate
	}
	return err
}

func (t *sqlTxn) device(hash []byte) (*deviceRow, error) {
	return scanDevice(t.tx.QueryRowContext(t.ctx, `SELECT `+deviceCols+` FROM devices WHERE hash = ?`, hash))
}

func (t *sqlTxn) devicePolled(hash []byte, at, interval int64) error {
	_, err := t.exec(`UPDATE devices SET last_poll = ?, interval = ? WHERE hash = ?`, at, interval, hash)
	return err
}

func (t *sqlTxn) deviceExchanged(hash []byte) error {
	_, err := t.exec(`UPDATE devices SET status = ? WHERE hash = ?`, deviceDone, hash)
	return err
}

func (t *sqlTxn) decideDevice(hash []byte, status int, subject string, authTime int64) (bool, error) {
	n, err := t.exec(`UPDATE devices SET status = ?, subject = ?, auth_time = ? WHERE hash = ? AND status = ?`,
		status, subject, authTime, hash, devicePending)
	return n > 0, err
}

func (t *sqlTxn) meta(k string) ([]byte, error) {
	var v []byte
	err := t.tx.QueryRowContext(t.ctx, `SELECT v FROM meta WHERE k = ?`, k).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return v, err
}

func (t *sqlTxn) putMeta(k string, v []byte) error {
	_, err := t.exec(`INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v`, k, v)
	return err
}

// sweep deletes expired rows: the next chunk of the tokens table in key order, and at the
// end of each pass expired sessions and device codes. It returns the cursor for the next call.
func (s *store) sweep(ctx context.Context, now time.Time, cursor []byte) ([]byte, error) {
	// Keep expired tokens a day so that a late reuse of a rotated refresh token still
	// revokes its grant.
	cut := now.Add(-24 * time.Hour).Unix()
	var last []byte
	err := s.r.QueryRowContext(ctx, `SELECT max(hash) FROM (SELECT hash FROM tokens WHERE hash > ? ORDER BY hash LIMIT 2000)`, cursor).Scan(&last)
	if err != nil {
		return nil, err
	}
	exec := func(q string, args ...any) error {
		return s.write(false, func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, q, args...)
			return err
		})
	}
	if last != nil {
		return last, exec(`DELETE FROM tokens WHERE hash > ? AND hash <= ? AND expires_at < ?`, cursor, last, cut)
	}
	// The end of the tokens table: sweep the (smaller) sessions and devices tables once per
	// pass, then wrap around.
	if err := exec(`DELETE FROM sessions WHERE expires_at < ?`, now.Unix()); err != nil {
		return nil, err
	}
	if err := exec(`DELETE FROM devices WHERE expires_at < ?`, cut); err != nil {
		return nil, err
	}
	return []byte{}, nil
}

// checkpointer copies the WAL into the database file every half second (PASSIVE: it never
// blocks the writer or readers), and truncates the WAL on the way out.
func (s *store) checkpointer() {
	defer close(s.checkpointDone)
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-s.stopWriter:
			s.ckpt.Lock()
			s.w.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
			s.ckpt.Unlock()
			return
		case <-t.C:
			s.ckpt.Lock()
			s.r.Exec(`PRAGMA wal_checkpoint(PASSIVE)`)
			s.ckpt.Unlock()
		}
	}
}

// writeJob is one caller's part of a group commit.
type writeJob struct {
	fn    func(context.Context, *sql.Tx) error
	multi bool // more than one statement: runs under a savepoint, undone on error
	done  chan error
}

var errStoreClosed = errors.New("the database is closed")

// write runs fn in the next group commit and returns fn's error, or the commit's. fn must use
// only tx and the context it is given. A single-statement fn needs no savepoint: SQLite undoes
// a failed statement by itself.
func (s *store) write(multi bool, fn func(context.Context, *sql.Tx) error) error {
	j := &writeJob{fn: fn, multi: multi, done: make(chan error, 1)}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return errStoreClosed
	}
	s.jobs <- j
	s.mu.RUnlock()
	return fault(<-j.done)
}

func (s *store) writer() {
	defer close(s.writerDone)
	idle := time.NewTimer(s.idleCheckpoint)
	defer idle.Stop()
	for {
		var batch []*writeJob
		select {
		case <-idle.C:
			s.truncateWAL()
			idle.Reset(s.idleCheckpoint)
			continue
		case j := <-s.jobs:
			batch = append(batch, j)
		case <-s.stopWriter:
			// Nobody can queue any more (closed is set); finish what is queued.
			for {
				select {
				case j := <-s.jobs:
					s.commit([]*writeJob{j})
				default:
					return
				}
			}
		}
		// Let the handlers that are about to write queue their jobs too: on a busy server
		// this turns one commit per request into one per burst.
		runtime.Gosched()
	more:
		for len(batch) < 256 {
			select {
			case j := <-s.jobs:
				batch = append(batch, j)
			default:
				break more
			}
		}
		s.commit(batch)
		if s.path != "" {
			s.walDirty = true
			if s.walSize() > s.walLimit {
				s.truncateWAL()
			}
			idle.Reset(s.idleCheckpoint)
		}
	}
}

// walSize is the size of the WAL file; 0 if there is none.
func (s *store) walSize() int64 {
	fi, err := os.Stat(s.path + "-wal")
	if err != nil {
		return 0
	}
	return fi.Size()
}

// truncateWAL runs a TRUNCATE checkpoint on the writer's connection, between transactions:
// it waits (busy_timeout) for readers of old WAL frames, copies the WAL into the database and
// truncates it to zero bytes. A checkpoint that could not finish is retried after the next
// commit or idle period.
func (s *store) truncateWAL() {
	if !s.walDirty || s.path == "" {
		return
	}
	var busy, logFrames, done int
	s.ckpt.Lock()
	err := s.w.QueryRow(`PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &done)
	s.ckpt.Unlock()
	s.walDirty = err != nil || busy != 0
}

// errDBLost is the fault of a database file deleted or replaced under the running server:
// SQLite would go on writing to the deleted file, and every write would be lost at exit.
var errDBLost = errors.New("the database file was deleted or replaced while the server runs: put it back, or restart the server to start a new one")

func (s *store) commit(batch []*writeJob) {
	ctx := context.Background()
	if s.file != nil {
		if fi, err := os.Stat(s.path); err != nil || !os.SameFile(fi, s.file) {
			for _, j := range batch {
				j.done <- &unavailableError{errDBLost}
			}
			return
		}
	}
	errs := make([]error, len(batch))
	run := func(j *writeJob, tx *sql.Tx) (err error) {
		defer func() {
			// A bug in one job must not kill the writer (every later write would hang).
			if v := recover(); v != nil {
				err = fmt.Errorf("write job panicked: %v", v)
			}
		}()
		return j.fn(ctx, tx)
	}
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		for i, j := range batch {
			if !j.multi {
				errs[i] = run(j, tx)
				if f := fault(errs[i]); errors.Is(f, errUnavailable) {
					// SQLite may have rolled the whole transaction back (it does on a
					// full disk): the batch fails with the fault, for every job.
					return f
				}
				continue
			}
			if _, err := tx.ExecContext(ctx, `SAVEPOINT job`); err != nil {
				return err
			}
			if errs[i] = run(j, tx); errs[i] != nil {
				if f := fault(errs[i]); errors.Is(f, errUnavailable) {
					return f
				}
				if _, err := tx.ExecContext(ctx, `ROLLBACK TO job`); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, `RELEASE job`); err != nil {
				return err
			}
		}
		return nil
	})
	for i, j := range batch {
		if err != nil {
			j.done <- err
		} else {
			j.done <- errs[i]
		}
	}
}

// fault marks the SQLite errors that should pass by themselves as storage faults
// (errUnavailable): a full disk or database size limit, a read-only or moved database, I/O
// errors, a file that cannot be opened, a lock held past busy_timeout, no memory.
func fault(err error) error {
	var se *sqlite.Error
	if err == nil || !errors.As(err, &se) {
		return err
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN,
		sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_NOMEM, sqlite3.SQLITE_PROTOCOL:
		return &unavailableError{err}
	}
	return err
}

// quick drops ctx's cancellation for database calls: they are short (busy_timeout bounds a
// wait for the lock), and a cancellable context costs the driver a goroutine per statement
// and database/sql one per transaction.
func quick(ctx context.Context) context.Context { return context.WithoutCancel(ctx) }

// withTx runs f in a write transaction.
func (s *store) withTx(ctx context.Context, f func(*sql.Tx) error) error {
	ctx = quick(ctx)
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := f(tx); err != nil {
		return err
	}
	return tx.Commit()
}

func (t *sqlTxn) revokeClientTokens(clientID string) error {
	_, err := t.exec(`UPDATE tokens SET revoked = 1 WHERE client_id = ?`, clientID)
	return err
}

func (t *sqlTxn) wipe() error {
	for _, table := range []string{"clients", "tokens", "sessions", "devices"} {
		if _, err := t.exec(`DELETE FROM ` + table); err != nil {
			return err
		}
	}
	return nil
}

func (s *store) dump(ctx context.Context) (*snapshot, error) {
	st := &snapshot{Meta: map[string][]byte{}, Clients: []*clientRow{}, Tokens: []tokenEntry{}, Sessions: []sessionEntry{}, Devices: []deviceEntry{}}
	each := func(q string, scan func(scanner) error) error {
		rows, err := s.r.QueryContext(ctx, q)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	}
	err := dumpTables(st, deviceCols, each)
	return st, fault(err)
}

func (t *sqlTxn) restore(st *snapshot) error {
	return restoreSnapshot(t, st, func(e tokenEntry) error {
		r := e.tokenRow
		_, err := t.exec(`INSERT INTO tokens (hash, `+tokenCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`,
			e.Hash, r.Kind, r.ClientID, r.GrantID, r.Subject, r.Scope, r.Origin, r.IssuedAt, r.ExpiresAt, r.Uses, r.Revoked, r.Data)
		return err
	}, func(d deviceRow) error {
		_, err := t.exec(`INSERT INTO devices (`+deviceCols+`) VALUES (?,?,?,?,?,?,?,?,?,?)`,
			d.hash, d.userCodeHash, d.clientID, d.scope, d.subject, d.expiresAt, d.interval, d.lastPoll, d.status, d.authTime)
		return err
	})
}
