package cmd

import (
	"crypto/tls"
	"fmt"
	"net"
	"time"

	"github.com/dcrctl/dcrctl/testserver"
)

// config turns the flags into the server's configuration: the zero configuration, the file
// merged over it, then the flags that override both. Nobody able to register in the mode
// chosen is a usage error naming the key to add.
func (opts *serveOptions) config() (testserver.Config, error) {
	zero := opts.ConfigFile == ""
	// The bootstrap secret is generated on the first start of the database and kept there,
	// so restarts print the same one.
	cfg := testserver.ServeDefaults()
	if !zero {
		var err error
		if cfg, err = testserver.LoadConfigOver(opts.ConfigFile, cfg); err != nil {
			return cfg, usageErrorf("%v", err)
		}
	}
	if opts.BehaveLike != "" {
		if _, err := testserver.ProfileBehaviour(opts.BehaveLike); err != nil {
			return cfg, usageErrorf("--behave-like: %v", err)
		}
		cfg.BehaveLike = opts.BehaveLike
	}
	if opts.Registration != "" {
		m, err := testserver.ParseMode(opts.Registration)
		if err != nil {
			return cfg, usageErrorf("--registration: %v", err)
		}
		cfg.Registration = m
	}
	if opts.MaxConns != 0 {
		cfg.MaxConns = opts.MaxConns
	}
	if opts.ResourcePath != "" {
		cfg.ResourcePath = opts.ResourcePath
	}
	if err := opts.CIMD.apply(&cfg, opts.Addr); err != nil {
		return cfg, err
	}
	if err := cfg.CheckRegistration(); err != nil && zero {
		return cfg, usageErrorf("%v", err)
	} else if err != nil {
		return cfg, usageErrorf("%s: %v", opts.ConfigFile, err)
	}
	return cfg, opts.dbPath(&cfg, zero)
}

// dbPath applies --memory and --db, or the default database file.
func (opts *serveOptions) dbPath(cfg *testserver.Config, zero bool) error {
	switch {
	case opts.Memory && opts.DB != "":
		return usageErrorf("--memory and --db exclude each other")
	case opts.Memory:
		cfg.DBPath = ""
	case testserver.DBHasPassword(opts.DB):
		return usageErrorf("--db holds a password, which other users can read in the process list: take it out of the URL and set PGPASSWORD, use ~/.pgpass, or put the URL in the config file (db:)")
	case opts.DB != "":
		cfg.DBPath = opts.DB
	case zero || cfg.DBPath == "":
		db, err := testserver.DefaultDBPath(opts.IO.getenv)
		if err != nil {
			return usageErrorf("%v: use --db FILE or --memory", err)
		}
		cfg.DBPath = db
	}
	return nil
}

// checkListen checks the address, TLS and log flags together and returns the host to listen on.
func (opts *serveOptions) checkListen() (string, error) {
	if (opts.TLSCert == "") != (opts.TLSKey == "") {
		return "", usageErrorf("--tls-cert and --tls-key go together")
	}
	if opts.TLSSelf && opts.TLSCert != "" {
		return "", usageErrorf("--tls-self-signed and --tls-cert exclude each other")
	}
	switch opts.LogFormat {
	case "text", "json", "none":
	default:
		return "", usageErrorf("--log-format %q: use text, json or none", opts.LogFormat)
	}
	host, _, err := net.SplitHostPort(opts.Addr)
	if err != nil {
		return "", usageErrorf("--addr %q is not HOST:PORT: %v", opts.Addr, err)
	}
	useTLS := opts.TLSCert != "" || opts.TLSSelf
	if !useTLS && !opts.InsecureHTTP && !loopbackHost(host) {
		return "", usageErrorf("refusing plain http on non-loopback address %q: credentials would travel unencrypted; use --tls-cert/--tls-key or --tls-self-signed, or --insecure-http if you really mean it", opts.Addr)
	}
	return host, nil
}

// tlsConfig loads --tls-cert/--tls-key or makes a self-signed certificate, whose PEM it writes
// next to the database (remove deletes it again); nil without TLS.
func (opts *serveOptions) tlsConfig(host, db string) (cfg *tls.Config, caFile string, remove func(), err error) {
	remove = func() {}
	switch {
	case opts.TLSCert != "":
		cert, err := tls.LoadX509KeyPair(opts.TLSCert, opts.TLSKey)
		if err != nil {
			return nil, "", remove, usageErrorf("--tls-cert/--tls-key: %v", err)
		}
		return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, "", remove, nil
	case opts.TLSSelf:
		cert, pemBytes, err := testserver.SelfSignedCert([]string{host}, time.Now())
		if err != nil {
			return nil, "", remove, err
		}
		if caFile, remove, err = testserver.WriteCertFile(db, pemBytes); err != nil {
			return nil, "", func() {}, fmt.Errorf("serve: write the self-signed certificate: %w", err)
		}
		return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, caFile, remove, nil
	}
	return nil, "", remove, nil
}

// issuer is --issuer, else the configured issuer, else the address listened on.
func (opts *serveOptions) issuer(configured string, addr *net.TCPAddr, useTLS bool) (string, error) {
	switch {
	case opts.Issuer != "":
		return opts.Issuer, nil
	case configured != "":
		return configured, nil
	case addr.IP.IsUnspecified():
		return "", usageErrorf("listening on all interfaces (%s): say how clients reach the server with --issuer https://HOST:PORT or issuer: in the config", opts.Addr)
	case useTLS:
		return "https://" + addr.String(), nil
	}
	return "http://" + addr.String(), nil
}
