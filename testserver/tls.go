package testserver

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// SelfSignedCert makes a self-signed ECDSA P-256 certificate, valid for a year from now, for
// the given host names and IP addresses (plus localhost, 127.0.0.1 and ::1). It returns the
// certificate for a tls.Config and its PEM encoding, which clients can trust explicitly.
func SelfSignedCert(hosts []string, now time.Time) (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("testserver: self-signed certificate: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("testserver: self-signed certificate: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "dcrctl serve (self-signed)"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" && h != "localhost" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("testserver: self-signed certificate: %w", err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, certPEM, nil
}

// Metadata returns the server's discovery metadata (RFC 8414 §2): issuer, endpoints and
// capabilities.
func (s *Server) Metadata() map[string]any {
	var m map[string]any
	json.Unmarshal(s.discovery, &m)
	return m
}

// WriteCertFile writes the PEM of a self-signed certificate where clients can find it:
// serve-cert.pem next to the database dbPath (creating its directory, 0700), or for an
// in-memory server (dbPath "") a temporary file of its own, so that servers side by side do
// not clash. The file is 0600. remove deletes a temporary file and is a no-op otherwise.
func WriteCertFile(dbPath string, pemBytes []byte) (path string, remove func(), err error) {
	remove = func() {}
	if dbPath != "" && !IsPostgres(dbPath) {
		dir := filepath.Dir(dbPath)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return "", remove, fmt.Errorf("testserver: certificate file: %w", err)
		}
		path = filepath.Join(dir, "serve-cert.pem")
		if err := os.WriteFile(path, pemBytes, 0o600); err != nil {
			return "", remove, fmt.Errorf("testserver: certificate file: %w", err)
		}
		return path, remove, os.Chmod(path, 0o600) // an older file may be 0644
	}
	f, err := os.CreateTemp("", "dcrctl-serve-cert-*.pem")
	if err != nil {
		return "", remove, fmt.Errorf("testserver: certificate file: %w", err)
	}
	_, err = f.Write(pemBytes)
	if err = errors.Join(err, f.Close()); err != nil {
		os.Remove(f.Name())
		return "", remove, fmt.Errorf("testserver: certificate file: %w", err)
	}
	return f.Name(), func() { os.Remove(f.Name()) }, nil
}
