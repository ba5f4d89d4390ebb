package testserver

import (
	"context"
	"errors"
	"time"
)

// storage is what a Server keeps in its database: registered clients, tokens (access and
// refresh tokens, codes), SSO sessions, device authorizations and a few named values (the
// signing key, generated secrets of static clients). Handlers see only this interface and
// the row types below; every SQL statement lives in the store implementation (store.go for
// SQLite).
//
// Reads outside a transaction may be served beside the writer. Writes run in a transaction
// (txn): update runs one of its own, batch joins the next group commit. A nil error from
// either means the write is durable.
type storage interface {
	client(ctx context.Context, id string) (*clientRow, error)
	token(ctx context.Context, hash []byte) (*tokenRow, error)
	session(ctx context.Context, hash []byte) (*sessionRow, error)
	deviceByUserCode(ctx context.Context, userCodeHash []byte) (*deviceRow, error)

	// update runs fn in a write transaction; fn's error undoes everything fn did.
	update(ctx context.Context, fn func(txn) error) error
	// batch runs fn in the next group commit, beside other callers' jobs, and returns fn's
	// error or the commit's. A multi-statement fn (multi) is undone alone when it fails; a
	// single-statement fn needs no savepoint. fn must use only the txn it is given.
	batch(multi bool, fn func(txn) error) error

	// dump reads the whole state (Server.Export).
	dump(ctx context.Context) (*snapshot, error)

	// sweep deletes expired rows, a bounded chunk per call, and returns the cursor of the
	// next call.
	sweep(ctx context.Context, now time.Time, cursor []byte) ([]byte, error)
	close() error
}

// txn is one write transaction. Lookups return nil, nil for a missing row.
type txn interface {
	client(id string) (*clientRow, error)
	putClient(c *clientRow) error
	// putClientFor is putClient for a registration with the reusable initial access token
	// token, whose row the handler may have from its cache: false (nothing stored) if the
	// token has been revoked meanwhile. On PostgreSQL the check is part of the insert, so
	// that a replica cannot register with a token another replica revoked; the SQLite store
	// is the only writer and invalidates its cache itself, and only inserts.
	putClientFor(c *clientRow, token []byte) (bool, error)
	updateClient(c *clientRow) error
	deleteClient(id string) error
	// clearRAT revokes a client's registration access token if it is still hash.
	clearRAT(id string, hash []byte) error

	token(hash []byte) (*tokenRow, error)
	putToken(hash []byte, t *tokenRow) error
	// useToken takes one use of an initial access token; false if none was left.
	useToken(hash []byte) (bool, error)
	// revokeToken revokes a token; false if it was revoked already.
	revokeToken(hash []byte) (bool, error)
	// revokeGrant revokes every token of a grant.
	revokeGrant(grantID []byte) error

	putSession(hash []byte, s *sessionRow) error
	// deleteSession ends an SSO session.
	deleteSession(hash []byte) error

	// putDevice stores a new device authorization; errDuplicate if its user code is taken.
	putDevice(d *deviceRow) error
	device(hash []byte) (*deviceRow, error)
	devicePolled(hash []byte, at, interval int64) error
	deviceExchanged(hash []byte) error
	// decideDevice records the user's decision on a pending device authorization; false if
	// it was no longer pending.
	decideDevice(hash []byte, status int, subject string, authTime int64) (bool, error)

	// revokeClientTokens revokes every token issued to a client (control API).
	revokeClientTokens(clientID string) error
	// wipe deletes every client, token, session and device authorization, keeping the
	// named values (control API reset).
	wipe() error
	// restore writes every row of a snapshot, all columns as they are (Server.Import).
	restore(st *snapshot) error

	meta(k string) ([]byte, error)
	putMeta(k string, v []byte) error
}

// errUnavailable matches (errors.Is) a storage fault that should pass: the disk is full, the
// database is read-only, missing or locked too long. Handlers answer it with 503 and
// Retry-After; the store keeps working and the next write tries again.
var errUnavailable = errors.New("the database is temporarily unavailable")

// unavailableError is a storage fault; it matches errUnavailable and unwraps to the cause.
type unavailableError struct{ err error }

func (e *unavailableError) Error() string        { return "storage unavailable: " + e.err.Error() }
func (e *unavailableError) Unwrap() error        { return e.err }
func (e *unavailableError) Is(target error) bool { return target == errUnavailable }

// errDuplicate is a write that would break a uniqueness rule.
var errDuplicate = errors.New("a row with this key exists")

// Token kinds and origins in tokenRow.
const (
	kindAccess  = 1
	kindRefresh = 2
	kindCode    = 3

	originClient = 1 // client_credentials
	originUser   = 2 // a user login: authorization code, refresh, device grant
)

// clientRow is a registered client as stored.
type clientRow struct {
	ID              string
	SecretHash      []byte // nil: public client
	SecretExpiresAt int64
	IssuedAt        int64
	RATHash         []byte
	Template        string
	Metadata        string // JSON object, without client_id and the credentials
	Owner           string
}

// tokenRow is an issued token, code or refresh token, stored under the SHA-256 of its value.
type tokenRow struct {
	Kind      int
	ClientID  string
	GrantID   []byte // shared by the code, access and refresh tokens of one grant; nil for client credentials
	Subject   string
	Scope     string
	Origin    int
	IssuedAt  int64
	ExpiresAt int64
	Uses      int64 // registrations left for an initial access token; -1 unlimited
	Revoked   bool
	Data      string // JSON details (code: redirect_uri, PKCE challenge, nonce, auth_time)
}

// sessionRow is an SSO session, stored under the SHA-256 of its cookie value.
type sessionRow struct {
	Username  string
	AuthTime  int64
	ExpiresAt int64
}

// deviceRow is a device authorization (RFC 8628), stored under the SHA-256 of its device
// code and of its normalised user code.
type deviceRow struct {
	hash, userCodeHash            []byte
	clientID, scope, subject      string
	expiresAt, interval, lastPoll int64
	status                        int
	authTime                      int64
}
