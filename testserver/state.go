package testserver

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// stateVersion is the format version of an exported state.
const stateVersion = 1

// snapshot is the whole state of a server, as its database holds it: secrets only as the
// hashes the database keeps, and in clear only what the database keeps in clear (the
// signing key, generated static client secrets; README "Local testing").
type snapshot struct {
	Format   string            `json:"format"`
	Version  int               `json:"version"`
	Meta     map[string][]byte `json:"meta"`
	Clients  []*clientRow      `json:"clients"`
	Tokens   []tokenEntry      `json:"tokens"`
	Sessions []sessionEntry    `json:"sessions"`
	Devices  []deviceEntry     `json:"devices"`
}

type tokenEntry struct {
	Hash []byte `json:"hash"`
	tokenRow
}

type sessionEntry struct {
	Hash []byte `json:"hash"`
	sessionRow
}

// deviceEntry is a deviceRow with exported fields.
type deviceEntry struct {
	Hash, UserCodeHash            []byte
	ClientID, Scope, Subject      string
	ExpiresAt, Interval, LastPoll int64
	Status                        int
	AuthTime                      int64
}

func (d deviceEntry) row() *deviceRow {
	return &deviceRow{hash: d.Hash, userCodeHash: d.UserCodeHash, clientID: d.ClientID, scope: d.Scope, subject: d.Subject,
		expiresAt: d.ExpiresAt, interval: d.Interval, lastPoll: d.LastPoll, status: d.Status, authTime: d.AuthTime}
}

func entryOf(d *deviceRow) deviceEntry {
	return deviceEntry{d.hash, d.userCodeHash, d.clientID, d.scope, d.subject, d.expiresAt, d.interval, d.lastPoll, d.status, d.authTime}
}

const stateFormat = "dcrctl-serve-state"

// Export writes the server's whole state as JSON: registered clients, tokens, sessions, device
// authorizations and the named values (signing key, generated static client secrets). Secrets
// appear only as the SHA-256 hashes the database holds; the file is as sensitive as the
// database, since it holds the signing key. Import loads it.
func (s *Server) Export(ctx context.Context, w io.Writer) error {
	st, err := s.store.dump(ctx)
	if err != nil {
		return fmt.Errorf("testserver: export: %w", err)
	}
	st.Format, st.Version = stateFormat, stateVersion
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(st); err != nil {
		return fmt.Errorf("testserver: export: %w", err)
	}
	return nil
}

// Import replaces the server's state with one written by Export. Call it before the server
// serves requests: it also takes over the exported signing key and the static clients'
// generated secrets (Config reports them).
func (s *Server) Import(ctx context.Context, r io.Reader) error {
	var st snapshot
	dec := json.NewDecoder(io.LimitReader(r, 1<<30))
	if err := dec.Decode(&st); err != nil {
		return fmt.Errorf("testserver: import: the file is not an exported state: %s", jsonErr(err))
	}
	if st.Format != stateFormat || st.Version != stateVersion {
		return fmt.Errorf("testserver: import: format %q version %d: this dcrctl reads %q version %d (written by dcrctl serve export)", st.Format, st.Version, stateFormat, stateVersion)
	}
	err := s.store.update(ctx, func(tx txn) error {
		if err := tx.wipe(); err != nil {
			return err
		}
		return tx.restore(&st)
	})
	if err != nil {
		return fmt.Errorf("testserver: import: %w", err)
	}
	if der, ok := st.Meta["signing_key"]; ok {
		k, err := x509.ParsePKCS8PrivateKey(der)
		rk, isRSA := k.(*rsa.PrivateKey)
		if err != nil || !isRSA {
			return errors.New("testserver: import: the exported signing key is not an RSA PKCS#8 key")
		}
		s.keyMu.Lock()
		err = s.useKey(rk)
		s.keyMu.Unlock()
		if err != nil {
			return err
		}
	}
	for k, v := range st.Meta {
		if id, ok := strings.CutPrefix(k, "client_secret:"); ok {
			for i := range s.cfg.Clients {
				if s.cfg.Clients[i].ClientID == id {
					s.cfg.Clients[i].ClientSecret = string(v)
				}
			}
		}
	}
	s.cache.clear()
	s.tokCache.clear()
	return s.buildStatic()
}

// restoreSnapshot writes every row of st in t (txn.restore of both stores): meta, clients and
// sessions through t, tokens and device authorizations, all columns as they are, through
// the store's own insert statements.
func restoreSnapshot(t txn, st *snapshot, putToken func(tokenEntry) error, putDevice func(deviceRow) error) error {
	for k, v := range st.Meta {
		if err := t.putMeta(k, v); err != nil {
			return err
		}
	}
	for _, c := range st.Clients {
		if err := t.putClient(c); err != nil {
			return err
		}
	}
	for _, e := range st.Tokens {
		if err := putToken(e); err != nil {
			return err
		}
	}
	for _, e := range st.Sessions {
		if err := t.putSession(e.Hash, &e.sessionRow); err != nil {
			return err
		}
	}
	for _, e := range st.Devices {
		if err := putDevice(*e.row()); err != nil {
			return err
		}
	}
	return nil
}

// dumpTables reads every table into st (dump of both stores): each runs a query and calls
// scan on every row of its result; deviceCols is the store's column list of devices.
func dumpTables(st *snapshot, deviceCols string, each func(q string, scan func(scanner) error) error) error {
	return errors.Join(
		each(`SELECT k, v FROM meta`, func(r scanner) error {
			var k string
			var v []byte
			err := r.Scan(&k, &v)
			st.Meta[k] = v
			return err
		}),
		each(`SELECT `+clientCols+` FROM clients`, func(r scanner) error {
			c, err := scanClient(r)
			st.Clients = append(st.Clients, c)
			return err
		}),
		each(`SELECT hash, `+tokenCols+` FROM tokens`, func(r scanner) error {
			var e tokenEntry
			t := &e.tokenRow
			err := r.Scan(&e.Hash, &t.Kind, &t.ClientID, &t.GrantID, &t.Subject, &t.Scope, &t.Origin, &t.IssuedAt, &t.ExpiresAt, &t.Uses, &t.Revoked, &t.Data)
			st.Tokens = append(st.Tokens, e)
			return err
		}),
		each(`SELECT hash, username, auth_time, expires_at FROM sessions`, func(r scanner) error {
			var e sessionEntry
			err := r.Scan(&e.Hash, &e.Username, &e.AuthTime, &e.ExpiresAt)
			st.Sessions = append(st.Sessions, e)
			return err
		}),
		each(`SELECT `+deviceCols+` FROM devices`, func(r scanner) error {
			d, err := scanDevice(r)
			if err == nil {
				st.Devices = append(st.Devices, entryOf(d))
			}
			return err
		}),
	)
}
