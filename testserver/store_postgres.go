package testserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The PostgreSQL store (Config.DBPath a postgres:// URL) keeps the SQLite schema, with the
// same version rules, for several replicas of a server on one database. What SQLite gets
// from its single writer, PostgreSQL gets from row locks: every read inside a transaction
// (txn.client, token, device, meta) is SELECT … FOR UPDATE, so that a read-check-write of
// one row (a registration access token rotated, a code or refresh token redeemed) runs one
// replica at a time, and the loser re-reads the row the winner wrote, as on a single server.
// Single-row changes (useToken, revokeToken, decideDevice, clearRAT) are conditional
// UPDATEs. A value of meta that is missing is created under a transaction-scoped advisory
// lock, so that replicas starting together create one signing key and read it back.
//
// Writes run at READ COMMITTED, a multi-statement fn in its own transaction; single
// statements join a group commit (store_postgres_pipe.go). A deadlock or serialization
// failure runs fn again, a bounded number of times.

// pgSchema is the SQLite schema of migrations[0] in PostgreSQL types: BLOB is bytea, INTEGER
// bigint; revoked is a boolean. pgMigrations[i] takes version i to i+1, as migrations[i].
var pgMigrations = []string{
	// 0 → 1
	`CREATE TABLE meta (k text PRIMARY KEY, v bytea NOT NULL);
	CREATE TABLE clients (
		id text PRIMARY KEY,
		secret_hash bytea,
		secret_expires_at bigint NOT NULL DEFAULT 0,
		issued_at bigint NOT NULL,
		rat_hash bytea,
		template text NOT NULL DEFAULT '',
		metadata text NOT NULL,
		owner text NOT NULL DEFAULT ''
	);
	CREATE TABLE tokens (
		hash bytea PRIMARY KEY,
		kind bigint NOT NULL,
		client_id text NOT NULL,
		grant_id bytea,
		subject text NOT NULL,
		scope text NOT NULL,
		origin bigint NOT NULL,
		issued_at bigint NOT NULL,
		expires_at bigint NOT NULL,
		uses bigint NOT NULL,
		revoked boolean NOT NULL DEFAULT false,
		data text NOT NULL DEFAULT ''
	);
	CREATE INDEX tokens_grant ON tokens(grant_id) WHERE grant_id IS NOT NULL;
	CREATE TABLE sessions (
		hash bytea PRIMARY KEY,
		username text NOT NULL,
		auth_time bigint NOT NULL,
		expires_at bigint NOT NULL
	);
	CREATE TABLE devices (
		hash bytea PRIMARY KEY,
		user_code bytea NOT NULL UNIQUE,
		client_id text NOT NULL,
		scope text NOT NULL,
		expires_at bigint NOT NULL,
		"interval" bigint NOT NULL,
		last_poll bigint NOT NULL DEFAULT 0,
		status bigint NOT NULL DEFAULT 0,
		subject text NOT NULL DEFAULT '',
		auth_time bigint NOT NULL DEFAULT 0
	);`,
}

// Advisory lock keys (pg_advisory_xact_lock): arbitrary constants of this program.
const (
	pgLockMigrate = 0x64637201 // "dcr" 1: schema migrations
	pgLockSweep   = 0x64637202 // the sweeper
	pgLockMeta    = 0x64637203 // creating a missing meta value (second key: hashtext(k))
)

// pgOpTimeout bounds one storage call (a read, or a write transaction with its retries), so
// that a request never waits long for a database that went away: it answers 503 instead.
const pgOpTimeout = 10 * time.Second

// pgRetries is how many times a write transaction runs after a deadlock, a serialization
// failure or a connection that failed before anything was sent.
const pgRetries = 4

// IsPostgres reports whether db (Config.DBPath, --db) names a PostgreSQL database
// (postgres:// or postgresql:// URL) rather than an SQLite file.
func IsPostgres(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// RedactDB is db as it may be printed: a PostgreSQL URL with its password (in the user info
// or a password query parameter) replaced by xxxxx; an SQLite path unchanged.
func RedactDB(db string) string {
	if !IsPostgres(db) {
		return db
	}
	u, err := url.Parse(db)
	if err != nil {
		// Unparsable: keep only the scheme, the rest may hold a password.
		scheme, _, _ := strings.Cut(db, "://")
		return scheme + "://(unparsable URL, not shown)"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	if q := u.Query(); passwordParams(q) {
		for k := range q {
			if isPasswordParam(k) {
				q.Set(k, "xxxxx")
			}
		}
		u.RawQuery = q.Encode()
	}
	return u.String()
}

func isPasswordParam(k string) bool {
	return strings.EqualFold(k, "password") || strings.EqualFold(k, "sslpassword")
}

func passwordParams(q url.Values) bool {
	for k := range q {
		if isPasswordParam(k) {
			return true
		}
	}
	return false
}

// DBHasPassword reports whether db is a PostgreSQL URL with a password in it (or one that
// does not parse, which may).
func DBHasPassword(db string) bool {
	if !IsPostgres(db) {
		return false
	}
	u, err := url.Parse(db)
	if err != nil {
		return true
	}
	_, ok := u.User.Password()
	return ok || passwordParams(u.Query())
}

// pgStore is the PostgreSQL storage.
type pgStore struct {
	pool *pgxpool.Pool
	pipe *pgPipe // nil: no pipelining (pgPipeline off)
}

// pgPipeline turns the group commit and pipelined reads on (store_postgres_pipe.go); off
// only to measure what they win (BenchmarkLoadStores).
var pgPipeline = true

var _ storage = (*pgStore)(nil)

func openPGStore(ctx context.Context, dsn string) (*pgStore, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx masks passwords in its message only on a best-effort basis: say nothing of
		// the URL.
		return nil, errors.New("the PostgreSQL URL does not parse: see https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNSTRING-URIS")
	}
	if !strings.Contains(dsn, "connect_timeout") {
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	if !strings.Contains(dsn, "pool_max_conns") {
		cfg.MaxConns = 16
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, pgFault(err)
	}
	s := &pgStore{pool: pool}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	if pgPipeline {
		s.pipe = newPGPipe(pool)
	}
	return s, nil
}

// migrate applies the migrations from the stored version up, in one transaction under an
// advisory lock, so that replicas starting together migrate once. As on SQLite, a database
// of a newer schema is refused.
func (s *pgStore) migrate(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	return pgFault(pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(pgLockMigrate)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version bigint NOT NULL)`); err != nil {
			return err
		}
		var v int
		err := tx.QueryRow(ctx, `SELECT version FROM schema_version`).Scan(&v)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			if _, err := tx.Exec(ctx, `INSERT INTO schema_version (version) VALUES (0)`); err != nil {
				return err
			}
		case err != nil:
			return err
		}
		if v > schemaVersion {
			return fmt.Errorf("database schema version %d is newer than this dcrctl understands (%d): upgrade dcrctl or use another --db", v, schemaVersion)
		}
		for ; v < schemaVersion; v++ {
			if _, err := tx.Exec(ctx, pgMigrations[v]); err != nil {
				return fmt.Errorf("migrate schema to version %d: %w", v+1, err)
			}
		}
		_, err = tx.Exec(ctx, `UPDATE schema_version SET version = $1`, schemaVersion)
		return err
	}))
}

func (s *pgStore) close() error {
	if s.pipe != nil {
		s.pipe.close()
	}
	s.pool.Close()
	return nil
}

// op is ctx for one storage call: not cancelled with the request (pgx closes a connection
// whose query is cancelled), bounded by pgOpTimeout.
func op(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), pgOpTimeout)
}

// pgFault marks the errors that pass by themselves as storage faults (errUnavailable): the
// server cannot be reached or went away, is starting or shutting down, is out of resources,
// is read-only, or a statement timed out, and every failure of the connection itself (an
// error that PostgreSQL did not report). Errors PostgreSQL reports about a statement (a bug
// here) stay what they are.
func pgFault(err error) error {
	if err == nil || errors.Is(err, errUnavailable) || errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "08"), // connection exception
			strings.HasPrefix(pe.Code, "53"), // insufficient resources
			strings.HasPrefix(pe.Code, "57"), // operator intervention: shutdown, cannot connect now, query canceled
			strings.HasPrefix(pe.Code, "58"), // system error
			pe.Code == "25006",               // read-only transaction (a standby)
			pe.Code == "40001", pe.Code == "40P01",
			pe.Code == "55P03": // lock not available
			return &unavailableError{err}
		}
		return err
	}
	var ne net.Error
	var ce *pgconn.ConnectError
	switch {
	case errors.As(err, &ce), errors.As(err, &ne), pgconn.Timeout(err), pgconn.SafeToRetry(err),
		errors.Is(err, pgconn.ErrConnClosed), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return &unavailableError{err}
	}
	// Anything else pgx returns without PostgreSQL having answered is the connection's
	// failure too (a broken protocol stream, a closed pool).
	return &unavailableError{err}
}

// retryable is an error after which a write transaction may simply run again.
func retryable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "40001" || pe.Code == "40P01"
	}
	return pgconn.SafeToRetry(err)
}

// row reads one row outside a transaction: pipelined beside other callers' reads, or from
// the pool.
func (s *pgStore) row(ctx context.Context, scan func(pgx.Row) error, sql string, args ...any) error {
	if s.pipe != nil {
		return pgFault(s.pipe.query(scan, sql, args...))
	}
	ctx, cancel := op(ctx)
	defer cancel()
	return scan(s.pool.QueryRow(ctx, sql, args...))
}

// storable reports whether PostgreSQL can hold s in a text column: valid UTF-8 without NUL.
// A client id that is not cannot be registered, so looking it up finds nothing (instead of
// PostgreSQL refusing the query).
func storable(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

func (s *pgStore) client(ctx context.Context, id string) (c *clientRow, err error) {
	if !storable(id) {
		return nil, nil
	}
	err = s.row(ctx, func(r pgx.Row) error { c, err = pgClient(r); return err }, `SELECT `+clientCols+` FROM clients WHERE id = $1`, id)
	return c, err
}

func (s *pgStore) token(ctx context.Context, hash []byte) (t *tokenRow, err error) {
	err = s.row(ctx, func(r pgx.Row) error { t, err = pgToken(r); return err }, `SELECT `+tokenCols+` FROM tokens WHERE hash = $1`, hash)
	return t, err
}

func (s *pgStore) session(ctx context.Context, hash []byte) (si *sessionRow, err error) {
	err = s.row(ctx, func(r pgx.Row) error {
		si = &sessionRow{}
		err := r.Scan(&si.Username, &si.AuthTime, &si.ExpiresAt)
		if errors.Is(err, pgx.ErrNoRows) {
			si = nil
			return nil
		}
		return pgFault(err)
	}, `SELECT username, auth_time, expires_at FROM sessions WHERE hash = $1`, hash)
	return si, err
}

func (s *pgStore) deviceByUserCode(ctx context.Context, userCodeHash []byte) (d *deviceRow, err error) {
	err = s.row(ctx, func(r pgx.Row) error { d, err = pgDevice(r); return err }, `SELECT `+pgDeviceCols+` FROM devices WHERE user_code = $1`, userCodeHash)
	return d, err
}

// pgDeviceCols is deviceCols with "interval" quoted (a keyword in PostgreSQL).
var pgDeviceCols = strings.Replace(deviceCols, "interval", `"interval"`, 1)

func pgClient(r pgx.Row) (*clientRow, error) {
	c, err := scanClient(r)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return c, pgFault(err)
}

func pgToken(r pgx.Row) (*tokenRow, error) {
	t := &tokenRow{}
	err := r.Scan(&t.Kind, &t.ClientID, &t.GrantID, &t.Subject, &t.Scope, &t.Origin, &t.IssuedAt, &t.ExpiresAt, &t.Uses, &t.Revoked, &t.Data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return t, pgFault(err)
}

func pgDevice(r pgx.Row) (*deviceRow, error) {
	d, err := scanDevice(r)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return d, pgFault(err)
}

// update runs fn in a transaction of its own, again after a deadlock or serialization
// failure (fn must be safe to run again: handlers' fns set their results on each run).
func (s *pgStore) update(ctx context.Context, fn func(txn) error) error {
	ctx, cancel := op(ctx)
	defer cancel()
	var err error
	for range pgRetries {
		err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return fn(&pgTxn{ctx: ctx, tx: tx}) })
		if !retryable(err) || ctx.Err() != nil {
			break
		}
	}
	return pgFault2(err)
}

// pgFault2 classifies what a transaction returned: fn's own errors (a protocol error, a
// storage fault already classified) as they are, the driver's as pgFault says.
func pgFault2(err error) error {
	var pe *pgconn.PgError
	switch {
	case err == nil, errors.Is(err, errUnavailable):
		return err
	case errors.As(err, &pe):
		return pgFault(err)
	case isDriverError(err):
		return pgFault(err)
	}
	return err
}

// isDriverError is an error from pgx or the network rather than from a handler's fn.
func isDriverError(err error) bool {
	var ne net.Error
	var ce *pgconn.ConnectError
	return errors.As(err, &ce) || errors.As(err, &ne) || pgconn.Timeout(err) || pgconn.SafeToRetry(err) ||
		errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, pgx.ErrTxClosed) || errors.Is(err, pgx.ErrTxCommitRollback) ||
		strings.Contains(err.Error(), "closed pool")
}

// batch runs a multi-statement fn in its own transaction (PostgreSQL commits concurrent
// transactions together by itself), and a single-statement fn as that statement alone, in
// autocommit: one round trip instead of BEGIN, the statement and COMMIT.
func (s *pgStore) batch(multi bool, fn func(txn) error) error {
	if multi {
		return s.update(context.Background(), fn)
	}
	ctx, cancel := op(context.Background())
	defer cancel()
	if s.pipe != nil {
		return pgFault2(fn(&pgTxn{ctx: ctx, tx: pipeQuerier{s.pipe}}))
	}
	var err error
	for range pgRetries {
		err = fn(&pgTxn{ctx: ctx, tx: s.pool})
		if !retryable(err) || ctx.Err() != nil {
			break
		}
	}
	return pgFault2(err)
}

func (s *pgStore) dump(ctx context.Context) (*snapshot, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	st := &snapshot{Meta: map[string][]byte{}, Clients: []*clientRow{}, Tokens: []tokenEntry{}, Sessions: []sessionEntry{}, Devices: []deviceEntry{}}
	// One REPEATABLE READ transaction: every table as of one moment.
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, pgFault(err)
	}
	defer tx.Rollback(ctx)
	each := func(q string, scan func(scanner) error) error {
		rows, err := tx.Query(ctx, q)
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
	err = dumpTables(st, pgDeviceCols, each)
	if err != nil {
		return nil, pgFault(err)
	}
	return st, nil
}

// sweep deletes expired rows as the SQLite store's sweep does, on one replica at a time: a
// replica that does not get the advisory lock skips this round.
func (s *pgStore) sweep(ctx context.Context, now time.Time, cursor []byte) ([]byte, error) {
	cut := now.Add(-24 * time.Hour).Unix()
	next := cursor
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var mine bool
		if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock($1)`, int64(pgLockSweep)).Scan(&mine); err != nil || !mine {
			return err
		}
		var last []byte
		// The last key of the next chunk (PostgreSQL has no max(bytea)).
		err := tx.QueryRow(ctx, `SELECT hash FROM (SELECT hash FROM tokens WHERE hash > $1 ORDER BY hash LIMIT 2000) AS chunk ORDER BY hash DESC LIMIT 1`, cursor).Scan(&last)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if last != nil {
			next = last
			_, err := tx.Exec(ctx, `DELETE FROM tokens WHERE hash > $1 AND hash <= $2 AND expires_at < $3`, cursor, last, cut)
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE expires_at < $1`, now.Unix()); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM devices WHERE expires_at < $1`, cut); err != nil {
			return err
		}
		next = []byte{}
		return nil
	})
	if err != nil {
		return nil, pgFault(err)
	}
	return next, nil
}

// pgTxn is a txn on PostgreSQL: a transaction, or for a single statement the pool.
type pgTxn struct {
	ctx context.Context
	tx  querier
}

// querier is what pgTxn needs of a pgx.Tx or a *pgxpool.Pool.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

var _ txn = (*pgTxn)(nil)

func (t *pgTxn) exec(q string, args ...any) (int64, error) {
	tag, err := t.tx.Exec(t.ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

func (t *pgTxn) client(id string) (*clientRow, error) {
	if !storable(id) {
		return nil, nil
	}
	return pgClient(t.tx.QueryRow(t.ctx, `SELECT `+clientCols+` FROM clients WHERE id = $1 FOR UPDATE`, id))
}

func (t *pgTxn) putClient(c *clientRow) error {
	_, err := t.exec(`INSERT INTO clients (`+clientCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)`,
		c.ID, c.SecretHash, c.SecretExpiresAt, c.IssuedAt, c.RATHash, c.Template, c.Metadata, c.Owner)
	return err
}

func (t *pgTxn) putClientFor(c *clientRow, token []byte) (bool, error) {
	n, err := t.exec(`INSERT INTO clients (`+clientCols+`) SELECT $1,$2,$3,$4,$5,$6,$7,$8 WHERE EXISTS (SELECT 1 FROM tokens WHERE hash = $9 AND NOT revoked)`,
		c.ID, c.SecretHash, c.SecretExpiresAt, c.IssuedAt, c.RATHash, c.Template, c.Metadata, c.Owner, token)
	return n > 0, err
}

func (t *pgTxn) updateClient(c *clientRow) error {
	_, err := t.exec(`UPDATE clients SET secret_hash=$1, secret_expires_at=$2, rat_hash=$3, template=$4, metadata=$5 WHERE id=$6`,
		c.SecretHash, c.SecretExpiresAt, c.RATHash, c.Template, c.Metadata, c.ID)
	return err
}

func (t *pgTxn) deleteClient(id string) error {
	_, err := t.exec(`DELETE FROM clients WHERE id = $1`, id)
	return err
}

func (t *pgTxn) clearRAT(id string, hash []byte) error {
	_, err := t.exec(`UPDATE clients SET rat_hash = NULL WHERE id = $1 AND rat_hash = $2`, id, hash)
	return err
}

func (t *pgTxn) token(hash []byte) (*tokenRow, error) {
	return pgToken(t.tx.QueryRow(t.ctx, `SELECT `+tokenCols+` FROM tokens WHERE hash = $1 FOR UPDATE`, hash))
}

const pgInsertToken = `INSERT INTO tokens (hash, ` + tokenCols + `) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)`

func (t *pgTxn) putToken(hash []byte, r *tokenRow) error {
	_, err := t.exec(pgInsertToken, hash, r.Kind, r.ClientID, r.GrantID, r.Subject, r.Scope, r.Origin, r.IssuedAt, r.ExpiresAt, r.Uses, false, r.Data)
	return err
}

func (t *pgTxn) useToken(hash []byte) (bool, error) {
	n, err := t.exec(`UPDATE tokens SET uses = uses - 1 WHERE hash = $1 AND uses > 0`, hash)
	return n > 0, err
}

func (t *pgTxn) revokeToken(hash []byte) (bool, error) {
	n, err := t.exec(`UPDATE tokens SET revoked = true WHERE hash = $1 AND NOT revoked`, hash)
	return n > 0, err
}

func (t *pgTxn) revokeGrant(grantID []byte) error {
	_, err := t.exec(`UPDATE tokens SET revoked = true WHERE grant_id = $1`, grantID)
	return err
}

func (t *pgTxn) putSession(hash []byte, s *sessionRow) error {
	_, err := t.exec(`INSERT INTO sessions (hash, username, auth_time, expires_at) VALUES ($1,$2,$3,$4)`,
		hash, s.Username, s.AuthTime, s.ExpiresAt)
	return err
}

func (t *pgTxn) deleteSession(hash []byte) error {
	_, err := t.exec(`DELETE FROM sessions WHERE hash = $1`, hash)
	return err
}

func (t *pgTxn) putDevice(d *deviceRow) error {
	// ON CONFLICT keeps the transaction usable (a failed statement would abort it).
	n, err := t.exec(`INSERT INTO devices (hash, user_code, client_id, scope, expires_at, "interval") VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT (user_code) DO NOTHING`,
		d.hash, d.userCodeHash, d.clientID, d.scope, d.expiresAt, d.interval)
	if err == nil && n == 0 {
		return errDuplicate
	}
	return err
}

func (t *pgTxn) device(hash []byte) (*deviceRow, error) {
	return pgDevice(t.tx.QueryRow(t.ctx, `SELECT `+pgDeviceCols+` FROM devices WHERE hash = $1 FOR UPDATE`, hash))
}

func (t *pgTxn) devicePolled(hash []byte, at, interval int64) error {
	_, err := t.exec(`UPDATE devices SET last_poll = $1, "interval" = $2 WHERE hash = $3`, at, interval, hash)
	return err
}

func (t *pgTxn) deviceExchanged(hash []byte) error {
	_, err := t.exec(`UPDATE devices SET status = $1 WHERE hash = $2`, deviceDone, hash)
	return err
}

func (t *pgTxn) decideDevice(hash []byte, status int, subject string, authTime int64) (bool, error) {
	n, err := t.exec(`UPDATE devices SET status = $1, subject = $2, auth_time = $3 WHERE hash = $4 AND status = $5`,
		status, subject, authTime, hash, devicePending)
	return n > 0, err
}

func (t *pgTxn) revokeClientTokens(clientID string) error {
	_, err := t.exec(`UPDATE tokens SET revoked = true WHERE client_id = $1`, clientID)
	return err
}

func (t *pgTxn) wipe() error {
	for _, table := range []string{"clients", "tokens", "sessions", "devices"} {
		if _, err := t.exec(`DELETE FROM ` + table); err != nil {
			return err
		}
	}
	return nil
}

// meta reads a named value, locking it. A missing value is looked for again under an
// advisory lock on its name, held to the end of the transaction: of replicas creating it
// together (the signing key at start), the first creates it and the others read it.
func (t *pgTxn) meta(k string) ([]byte, error) {
	read := func() ([]byte, error) {
		var v []byte
		err := t.tx.QueryRow(t.ctx, `SELECT v FROM meta WHERE k = $1 FOR UPDATE`, k).Scan(&v)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, nil
		}
		return v, err
	}
	v, err := read()
	if v != nil || err != nil {
		return v, err
	}
	if _, err := t.tx.Exec(t.ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, int32(pgLockMeta), k); err != nil {
		return nil, err
	}
	return read()
}

func (t *pgTxn) putMeta(k string, v []byte) error {
	_, err := t.exec(`INSERT INTO meta (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = excluded.v`, k, v)
	return err
}

func (t *pgTxn) restore(st *snapshot) error {
	return restoreSnapshot(t, st, func(e tokenEntry) error {
		r := e.tokenRow
		_, err := t.exec(pgInsertToken, e.Hash, r.Kind, r.ClientID, r.GrantID, r.Subject, r.Scope, r.Origin, r.IssuedAt, r.ExpiresAt, r.Uses, r.Revoked, r.Data)
		return err
	}, func(d deviceRow) error {
		_, err := t.exec(`INSERT INTO devices (`+pgDeviceCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`,
			d.hash, d.userCodeHash, d.clientID, d.scope, d.subject, d.expiresAt, d.interval, d.lastPoll, d.status, d.authTime)
		return err
	})
}

// openStorage opens the store db names: a PostgreSQL database (IsPostgres), else an SQLite
// file ("" in memory).
func openStorage(ctx context.Context, db string) (storage, error) {
	if IsPostgres(db) {
		return openPGStore(ctx, db)
	}
	st, err := openStore(ctx, db)
	if err != nil {
		return nil, err
	}
	return st, nil
}
