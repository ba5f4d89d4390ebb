package testserver

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"errors"
)

// syncKey takes over the signing key another replica stored (RotateSigningKey there), so
// that every replica on one PostgreSQL database signs with, and publishes, the same key; the
// sweeper calls it on every tick. Elsewhere (SQLite, a configured key) it does nothing.
func (s *Server) syncKey(ctx context.Context) error {
	if !IsPostgres(s.cfg.DBPath) || s.cfg.SigningKey != nil {
		return nil
	}
	var der []byte
	err := s.store.update(ctx, func(tx txn) (err error) {
		der, err = tx.meta("signing_key")
		return err
	})
	if err != nil || der == nil {
		return err
	}
	s.keyMu.RLock()
	cur, err := x509.MarshalPKCS8PrivateKey(s.key)
	s.keyMu.RUnlock()
	if err == nil && bytes.Equal(cur, der) {
		return nil
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	rk, ok := k.(*rsa.PrivateKey)
	if err != nil || !ok {
		return errors.New("the stored signing key is not an RSA PKCS#8 key")
	}
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	return s.useKey(rk)
}
