package cmd

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/dcrctl/dcrctl/client"
	"github.com/dcrctl/dcrctl/client/registrar"
	"github.com/dcrctl/dcrctl/keystore"
)

// Keystore kinds the command line accepts. "none" keeps nothing (register only).
const (
	keystoreOS   = keystore.KindOS
	keystoreFile = keystore.KindFile
	keystoreNone = "none"
)

// Profile is one named profile of the config file
// (os.UserConfigDir()/dcrctl/config.yaml, or $DCRCTL_CONFIG_DIR/config.yaml):
//
//	default_profile: local
//	profiles:
//	  local:
//	    issuer: http://127.0.0.1:8414
//	    client_id: bootstrap
//	    client_secret_file: ~/.config/dcrctl/bootstrap.secret
//	    flow: client-credentials
//	    keystore: file
//
// It never holds a secret itself: only the path of a file that does.
type Profile struct {
	Issuer           string `yaml:"issuer"`
	ClientID         string `yaml:"client_id"`          // bootstrap client for the initial access token
	ClientSecretFile string `yaml:"client_secret_file"` // where that client's secret is kept
	Flow             string `yaml:"flow"`               // client-credentials, login, device or token
	Keystore         string `yaml:"keystore"`           // os, file or none
	// Explicit endpoints, for a server whose discovery lacks them (endpoints.go).
	RegistrationEndpoint        string `yaml:"registration_endpoint"`
	TokenEndpoint               string `yaml:"token_endpoint"`
	AuthorizationEndpoint       string `yaml:"authorization_endpoint"`
	DeviceAuthorizationEndpoint string `yaml:"device_authorization_endpoint"`
}

// configFile is the YAML config file.
type configFile struct {
	DefaultProfile string             `yaml:"default_profile"`
	Profiles       map[string]Profile `yaml:"profiles"`
}

// settings is what setup decided from the flags, the environment and the profile.
type settings struct {
	done             bool
	ConfigDir        string // dcrctl's configuration directory (index, config.yaml, recovery)
	Profile          Profile
	KeystoreExplicit bool           // --keystore, DCRCTL_KEYSTORE or the profile named one
	RootCAs          *x509.CertPool // --ca-file's certificates plus the system roots; nil: system roots
}

// configDir returns dcrctl's configuration directory: $DCRCTL_CONFIG_DIR, else
// os.UserConfigDir()/dcrctl.
func (g *GlobalOptions) configDir() (string, error) {
	if d := g.IO.getenv("DCRCTL_CONFIG_DIR"); d != "" {
		return d, nil
	}
	base, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no configuration directory (%v): set XDG_CONFIG_HOME, HOME or DCRCTL_CONFIG_DIR", err)
	}
	return filepath.Join(base, "dcrctl"), nil
}

// setup applies the profile and the environment to what the flags left empty. Precedence:
// flag, then environment variable, then profile, then default. It is idempotent.
func (g *GlobalOptions) setup() error {
	if g.settings.done {
		return nil
	}
	dir, err := g.configDir()
	if err != nil {
		return err
	}
	g.settings.ConfigDir = dir
	name := g.Profile
	if name == "" {
		name = g.IO.getenv("DCRCTL_PROFILE")
	}
	cfg, path, err := loadConfigFile(dir)
	if err != nil {
		return err
	}
	if name == "" {
		name = cfg.DefaultProfile
	}
	if name != "" {
		p, ok := cfg.Profiles[name]
		if !ok {
			names := make([]string, 0, len(cfg.Profiles))
			for n := range cfg.Profiles {
				names = append(names, n)
			}
			sort.Strings(names)
			if len(names) == 0 {
				return usageErrorf("no profile %q: %s defines no profiles; add one under profiles:, or drop --profile", name, path)
			}
			return usageErrorf("no profile %q in %s: use one of %s", name, path, strings.Join(names, ", "))
		}
		g.settings.Profile = p
		g.Profile = name
	}
	p := g.settings.Profile
	if g.Issuer == "" {
		g.Issuer = g.IO.getenv("DCRCTL_ISSUER")
	}
	if g.Issuer == "" {
		g.Issuer = p.Issuer
	}
	g.settings.KeystoreExplicit = true
	switch env := g.IO.getenv("DCRCTL_KEYSTORE"); {
	case g.Keystore != "":
	case env != "":
		g.Keystore = env
	case p.Keystore != "":
		g.Keystore = p.Keystore
	default:
		g.Keystore = keystoreOS
		g.settings.KeystoreExplicit = false
	}
	switch g.Keystore {
	case keystoreOS, keystoreFile, keystoreNone:
	default:
		return usageErrorf("unknown keystore %q: use --keystore os (the OS keyring), file (a plaintext file, insecure) or none", g.Keystore)
	}
	switch p.Flow {
	case "", "client-credentials", "login", "device", "token":
	default:
		return usageErrorf("profile %q: flow %q: use client-credentials, login, device or token", name, p.Flow)
	}
	if err := g.checkInputs(); err != nil {
		return err
	}
	g.settings.done = true
	return nil
}

// checkInputs refuses, before anything is sent or stored, global inputs that cannot work:
// an issuer without a scheme, an unreadable --ca-file, an --env-prefix that would set
// dcrctl's own inputs.
func (g *GlobalOptions) checkInputs() error {
	if g.Issuer != "" && !strings.Contains(g.Issuer, "://") {
		return usageErrorf("issuer %q has no scheme: use https://%s (or http://%s for a server on this machine)", g.Issuer, g.Issuer, g.Issuer)
	}
	if g.CAFile != "" {
		pool, err := loadCAFile(g.CAFile)
		if err != nil {
			return err
		}
		g.settings.RootCAs = pool
	}
	if g.EnvPrefix != "" {
		return checkEnvPrefix(g.EnvPrefix)
	}
	return nil
}

// loadConfigFile reads dir/config.yaml; a missing file is an empty config.
func loadConfigFile(dir string) (configFile, string, error) {
	path := filepath.Join(dir, "config.yaml")
	var cfg configFile
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return cfg, path, nil
	}
	if err != nil {
		return cfg, path, fmt.Errorf("config file: %w: check its permissions", err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(io.LimitReader(f, 1<<20))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return cfg, path, usageErrorf("config file %s: %v: fix it (keys: default_profile, profiles.NAME.{issuer, client_id, client_secret_file, flow, keystore, registration_endpoint, token_endpoint, authorization_endpoint, device_authorization_endpoint})", path, err)
	}
	return cfg, path, nil
}

// requireIssuer returns the issuer or a usage error saying how to give one.
func (g *GlobalOptions) requireIssuer() (string, error) {
	if g.Issuer == "" {
		return "", usageErrorf("no issuer: give --issuer URL, set DCRCTL_ISSUER, or choose a profile with --profile")
	}
	return g.Issuer, nil
}

// openStore opens the keystore chosen by --keystore (os or file).
func (g *GlobalOptions) openStore() (keystore.Store, error) {
	return g.openStoreKind(g.Keystore)
}

func (g *GlobalOptions) openStoreKind(kind string) (keystore.Store, error) {
	if kind == keystoreNone {
		return nil, usageErrorf("--keystore none keeps no credentials: this command needs a stored one; use --keystore os or file")
	}
	return keystore.Open(kind, keystore.Options{ConfigDir: g.settings.ConfigDir, OnLockWait: func(path string, d time.Duration) {
		fmt.Fprintf(g.IO.ErrOut, "another dcrctl is using the keystore (it holds %s): waiting up to %s\n", path, d)
	}})
}

// storeAccess finds a stored credential and the store that holds its secrets.
type storeAccess struct {
	g     *GlobalOptions
	store keystore.Store // nil: open from g
}

// get returns the credential called name with its secrets, and the store that holds them.
// Without an explicit --keystore, a credential kept in the other keystore is found there.
func (a storeAccess) get(ctx context.Context, name string) (keystore.Credential, keystore.Store, error) {
	st := a.store
	if st == nil {
		var err error
		if st, err = a.g.openStore(); err != nil {
			return keystore.Credential{}, nil, err
		}
	}
	c, err := st.Get(ctx, name)
	var wk *keystore.WrongKeystoreError
	if a.store == nil && errors.As(err, &wk) && !a.g.settings.KeystoreExplicit {
		if st, err = a.g.openStoreKind(wk.Has); err != nil {
			return keystore.Credential{}, nil, err
		}
		c, err = st.Get(ctx, name)
	}
	return c, st, err
}

// find returns the store that holds the credential called name, from the index alone (no
// secret is read, so no keyring prompt): without an explicit --keystore, a credential kept in
// the other keystore is found there. A name not in the index is left to the store to report.
func (a storeAccess) find(ctx context.Context, name string) (keystore.Store, error) {
	if a.store != nil {
		return a.store, nil
	}
	st, err := a.g.openStore()
	if err != nil || a.g.settings.KeystoreExplicit {
		return st, err
	}
	list, err := st.List(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range list {
		if c.Name == name && c.Keystore != "" && c.Keystore != a.g.Keystore {
			return a.g.openStoreKind(c.Keystore)
		}
	}
	return st, nil
}

// registrar joins the SDK and st (nil: store nothing) into the registration lifecycle.
func (g *GlobalOptions) registrar(st keystore.Store) *registrar.Registrar {
	return registrar.New(g.sdk(), st, registrar.Options{RecoveryDir: g.recoveryDir()})
}

// recoveryDir is where recovery files go: the configuration directory's "recovery".
func (g *GlobalOptions) recoveryDir() string { return filepath.Join(g.settings.ConfigDir, "recovery") }

// httpClient is the HTTP client for every request: package client's default client, whose
// Transport alone is wrapped — to record each request as a step (steps.go) and, with
// --verbose, for the redacted trace — so the redirect policy and timeouts stay the same.
// --ca-file adds trusted certificates; TLS verification itself is never turned off here.
func (g *GlobalOptions) httpClient() *http.Client {
	o := client.HTTPOptions{RootCAs: g.settings.RootCAs}
	o.WrapTransport = func(rt http.RoundTripper) http.RoundTripper {
		if g.Verbose {
			rt = &client.TraceTransport{Base: rt, Out: g.IO.ErrOut}
		}
		return g.steps.transport(rt) // what Ctrl-C or --timeout stopped (steps.go)
	}
	return client.NewHTTPClient(o)
}

// loadCAFile returns the system roots plus the PEM certificates of --ca-file.
func loadCAFile(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, usageErrorf("--ca-file: %v: give a readable PEM file of CA certificates", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, usageErrorf("--ca-file %s holds no PEM certificate: give the CA certificate (-----BEGIN CERTIFICATE-----)", path)
	}
	return pool, nil
}

// sdk returns the registration client.
func (g *GlobalOptions) sdk() *client.Client {
	v := g.Build.Version
	if v == "" {
		v = "dev"
	}
	return &client.Client{HTTPClient: g.httpClient(), UserAgent: "dcrctl/" + v}
}

// spinner shows progress on a terminal's stderr while the command waits for a person (a
// browser login, a device approval). It draws nothing when stderr is not a terminal or the
// session is not interactive.
type spinner struct {
	mu     sync.Mutex
	out    io.Writer
	msg    string
	on     bool
	stop   chan struct{}
	done   chan struct{}
	frames []string
}

// startSpinner starts a spinner with msg; stop it with Stop. Writes through Writer() clear
// the spinner's line first, so the URL a login prints stays readable.
func startSpinner(ios *IOStreams, msg string) *spinner {
	s := &spinner{out: ios.ErrOut, msg: msg, stop: make(chan struct{}), done: make(chan struct{}),
		frames: []string{"|", "/", "-", `\`}}
	if !ios.Interactive() {
		close(s.done)
		return s
	}
	if ios.ColorEnabled() {
		s.frames = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}
	}
	s.on = true
	go func() {
		defer close(s.done)
		t := time.NewTicker(120 * time.Millisecond)
		defer t.Stop()
		for i := 0; ; i++ {
			s.mu.Lock()
			fmt.Fprintf(s.out, "\r%s %s", s.frames[i%len(s.frames)], s.msg)
			s.mu.Unlock()
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// Writer returns a writer for status messages that do not collide with the spinner.
func (s *spinner) Writer() io.Writer { return spinnerWriter{s} }

type spinnerWriter struct{ s *spinner }

func (w spinnerWriter) Write(p []byte) (int, error) {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	if w.s.on {
		fmt.Fprint(w.s.out, "\r\033[K")
	}
	return w.s.out.Write(p)
}

// Stop stops the spinner and clears its line.
func (s *spinner) Stop() {
	s.mu.Lock()
	on := s.on
	s.on = false
	s.mu.Unlock()
	if on {
		close(s.stop)
		<-s.done
		fmt.Fprint(s.out, "\r\033[K")
	}
}

// warnSecretOnArgv is printed when a secret was given on the command line.
func warnSecretOnArgv(ios *IOStreams, what, instead string) {
	ios.warnf("%s on the command line is visible to other users (ps) and kept in shell history: %s", what, instead)
}
