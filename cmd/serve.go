package cmd

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/dcrctl/dcrctl/testserver"
)

func init() {
	subcommands = append(subcommands, newServeCmd)
}

// DefaultServeAddr is where dcrctl serve listens without --addr (8414: RFC 8414, discovery).
const DefaultServeAddr = "127.0.0.1:8414"

// serveOptions are the inputs of dcrctl serve.
type serveOptions struct {
	IO     *IOStreams
	Output string
	Issuer string // --issuer given explicitly on the command line

	Addr         string
	DB           string
	Memory       bool
	ConfigFile   string
	Registration string
	TLSCert      string
	TLSKey       string
	TLSSelf      bool
	InsecureHTTP bool
	LogFormat    string
	MaxConns     int
	BehaveLike   string
	Test         serveTestOptions
	DebugPage    string

	// ready, if set, is called once the server accepts connections (tests).
	ready func(addr string)
}

func newServeCmd(g *GlobalOptions) *cobra.Command {
	opts := &serveOptions{IO: g.IO}
	c := &cobra.Command{
		Use:   "serve",
		Short: "Run a local authorization server with dynamic client registration",
		Long: `Run a real OAuth 2.0 / OpenID Connect authorization server for local testing and CI:
discovery, dynamic client registration (RFC 7591) with templates, management (RFC 7592),
the token endpoint (client credentials, authorization code + PKCE, refresh, device grant),
a login page with single sign-on, revocation and introspection.

With no flags it listens on ` + DefaultServeAddr + `, requires an initial access token with scope
dcr from the client credentials grant for registration, and has one bootstrap client (scope
dcr), one template ("` + testserver.DefaultTemplate + `"), the public client "` + testserver.DefaultNativeClient + `" for browser and device
logins, and the demo user demo/demo. Its data (clients, tokens, sessions, signing key, the
bootstrap client's secret) is kept in a SQLite file under your data directory, so a restart
keeps everything and prints the same secret; --db FILE chooses the file, --memory keeps
nothing.

It prints the issuer, endpoints and credentials; with -o json exactly one JSON line on
stdout once it is ready to serve (issuer, endpoints, client_id, client_secret, templates,
users). The request log goes to stderr, without query strings, headers or bodies.
Stop it with Ctrl-C or SIGTERM (graceful shutdown).

Plain http is only allowed on a loopback address; elsewhere use --tls-cert/--tls-key or
--tls-self-signed, or insist with --insecure-http.`,
		Example: `  dcrctl serve
  dcrctl serve -o json --addr 127.0.0.1:0 --memory | head -1 | jq -r .client_secret
  dcrctl serve --registration open --db ./dcr.db
  dcrctl serve --config testserver.yaml --tls-self-signed`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			opts.Output = g.Output
			if c.Flags().Changed("issuer") {
				opts.Issuer = g.Issuer
			}
			ctx, cancel := g.Context(c)
			defer cancel()
			return serveRun(ctx, opts)
		},
	}
	c.AddCommand(newServeExportCmd(g))
	f := c.Flags()
	f.StringVar(&opts.Addr, "addr", DefaultServeAddr, "listen address HOST:PORT (port 0 picks a free one)")
	f.StringVar(&opts.DB, "db", "", "SQLite database file (default: dcrctl/serve.db under your data directory)")
	f.BoolVar(&opts.Memory, "memory", false, "keep everything in memory (lost on exit)")
	f.StringVar(&opts.ConfigFile, "config", "", "YAML configuration file (issuer, mode, clients, templates, users, lifetimes, rotation)")
	f.StringVar(&opts.Registration, "registration", "", "registration mode: open, client, user or disabled (default client)")
	f.StringVar(&opts.TLSCert, "tls-cert", "", "serve HTTPS with this PEM certificate (with --tls-key)")
	f.StringVar(&opts.TLSKey, "tls-key", "", "the PEM private key of --tls-cert")
	f.BoolVar(&opts.TLSSelf, "tls-self-signed", false, "serve HTTPS with a generated self-signed certificate (its PEM is written next to the database)")
	f.BoolVar(&opts.InsecureHTTP, "insecure-http", false, "allow plain http on a non-loopback address (credentials travel unencrypted)")
	f.StringVar(&opts.LogFormat, "log-format", "text", "request log format on stderr: text, json or none")
	f.StringVar(&opts.BehaveLike, "behave-like", "", "behave like another server: "+strings.Join(testserver.ProfileNames(), ", ")+" (default strict)")
	addServeTestFlags(f, &opts.Test)
	f.StringVar(&opts.DebugPage, "debug-page", "", debugPageUsage)
	f.IntVar(&opts.MaxConns, "max-conns", 0, fmt.Sprintf("most connections open at once; idle ones are closed to make room (default %d)", testserver.DefaultMaxConns))
	return c
}

// readyInfo is the -o json line.
type readyInfo struct {
	Issuer       string            `json:"issuer"`
	Registration string            `json:"registration"`
	Endpoints    map[string]string `json:"endpoints"`
	ClientID     string            `json:"client_id,omitempty"`
	ClientSecret string            `json:"client_secret,omitempty"`
	Scope        string            `json:"scope,omitempty"`
	NativeClient string            `json:"native_client_id,omitempty"`
	Clients      []readyClient     `json:"clients"`
	Templates    []string          `json:"templates"`
	Users        []readyUser       `json:"users"`
	DemoUser     *readyUser        `json:"demo_user,omitempty"`
	DB           string            `json:"db"`
	TLSCAFile    string            `json:"tls_ca_file,omitempty"`
	Control      *readyControl     `json:"control,omitempty"`
	BehaveLike   string            `json:"behave_like,omitempty"` // a profile other than strict
}

type readyClient struct {
	ClientID     string   `json:"client_id"`
	ClientSecret string   `json:"client_secret,omitempty"`
	AuthMethod   string   `json:"token_endpoint_auth_method"`
	GrantTypes   []string `json:"grant_types"`
	Scope        string   `json:"scope,omitempty"`
}

type readyUser struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

func serveRun(ctx context.Context, opts *serveOptions) error {
	zero := opts.ConfigFile == ""
	cfg := testserver.DefaultConfig()
	if !zero {
		var err error
		if cfg, err = testserver.LoadConfig(opts.ConfigFile); err != nil {
			return usageErrorf("%v", err)
		}
	} else {
		// Zero configuration: the bootstrap secret is generated on the first start of the
		// database and kept there, so restarts print the same one.
		cfg.Clients[0].ClientSecret = ""
		cfg.Issuer = ""
	}
	if opts.BehaveLike != "" {
		if _, err := testserver.ProfileBehaviour(opts.BehaveLike); err != nil {
			return usageErrorf("--behave-like: %v", err)
		}
		cfg.BehaveLike = opts.BehaveLike
	}
	if opts.Registration != "" {
		m, err := testserver.ParseMode(opts.Registration)
		if err != nil {
			return usageErrorf("--registration: %v", err)
		}
		cfg.Registration = m
	}
	switch {
	case opts.Memory && opts.DB != "":
		return usageErrorf("--memory and --db exclude each other")
	case opts.Memory:
		cfg.DBPath = ""
	case opts.DB != "":
		cfg.DBPath = opts.DB
	case zero || cfg.DBPath == "":
		db, err := testserver.DefaultDBPath(opts.IO.getenv)
		if err != nil {
			return usageErrorf("%v: use --db FILE or --memory", err)
		}
		cfg.DBPath = db
	}
	if (opts.TLSCert == "") != (opts.TLSKey == "") {
		return usageErrorf("--tls-cert and --tls-key go together")
	}
	if opts.TLSSelf && opts.TLSCert != "" {
		return usageErrorf("--tls-self-signed and --tls-cert exclude each other")
	}
	switch opts.LogFormat {
	case "text", "json", "none":
	default:
		return usageErrorf("--log-format %q: use text, json or none", opts.LogFormat)
	}
	useTLS := opts.TLSCert != "" || opts.TLSSelf
	host, _, err := net.SplitHostPort(opts.Addr)
	if err != nil {
		return usageErrorf("--addr %q is not HOST:PORT: %v", opts.Addr, err)
	}
	if !useTLS && !opts.InsecureHTTP && !loopbackHost(host) {
		return usageErrorf("refusing plain http on non-loopback address %q: credentials would travel unencrypted; use --tls-cert/--tls-key or --tls-self-signed, or --insecure-http if you really mean it", opts.Addr)
	}

	var tlsCfg *tls.Config
	var caFile string
	if opts.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(opts.TLSCert, opts.TLSKey)
		if err != nil {
			return usageErrorf("--tls-cert/--tls-key: %v", err)
		}
		tlsCfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	} else if opts.TLSSelf {
		cert, pemBytes, err := testserver.SelfSignedCert([]string{host}, time.Now())
		if err != nil {
			return err
		}
		tlsCfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		var removeCA func()
		if caFile, removeCA, err = testserver.WriteCertFile(cfg.DBPath, pemBytes); err != nil {
			return fmt.Errorf("serve: write the self-signed certificate: %w", err)
		}
		defer removeCA() // nothing outlives an in-memory server
	}

	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", opts.Addr)
	if err != nil {
		return fmt.Errorf("serve: listen on %s: %w", opts.Addr, err)
	}
	defer ln.Close()
	scheme := "http"
	if useTLS {
		scheme = "https"
	}
	switch {
	case opts.Issuer != "":
		cfg.Issuer = opts.Issuer
	case cfg.Issuer == "":
		a := ln.Addr().(*net.TCPAddr)
		if a.IP.IsUnspecified() {
			ln.Close()
			return usageErrorf("listening on all interfaces (%s): say how clients reach the server with --issuer https://HOST:PORT or issuer: in the config", opts.Addr)
		}
		cfg.Issuer = scheme + "://" + a.String()
	}
	if err := applyDebugPage(opts.IO, opts.DebugPage, &cfg, loopbackHost(host)); err != nil {
		return err
	}
	// The request log is buffered (one write per burst, not per request) and flushed often.
	logw := newFlushWriter(opts.IO.ErrOut, 200*time.Millisecond)
	defer logw.Close()
	cfg.Logger = serveLogger(logw, opts.LogFormat)
	cfg.TLS = tlsCfg
	if opts.MaxConns != 0 {
		cfg.MaxConns = opts.MaxConns
	}

	control, err := opts.Test.apply(&cfg)
	if err != nil {
		return err
	}
	srv, err := testserver.New(cfg)
	if err != nil {
		return err
	}
	defer srv.Close()
	if err := opts.Test.importState(ctx, srv); err != nil {
		return err
	}
	info := buildReadyInfo(srv, cfg.DBPath, caFile)
	if cfg.BehaveLike != "" && cfg.BehaveLike != testserver.DefaultProfile {
		info.BehaveLike = cfg.BehaveLike
	}
	if info.Control = control; control != nil {
		control.URL = srv.Issuer() + "/_control"
	}
	if opts.Output == "json" {
		b, err := json.Marshal(info)
		if err != nil {
			return err
		}
		fmt.Fprintf(opts.IO.Out, "%s\n", b)
	} else {
		printReady(opts.IO.Out, info)
	}
	if opts.ready != nil {
		opts.ready(ln.Addr().String())
	}

	if err := srv.Serve(ctx, ln); err != nil {
		return err
	}
	logw.Flush()
	fmt.Fprintln(opts.IO.ErrOut, "dcrctl serve: stopped")
	if err := srv.Close(); err != nil {
		return fmt.Errorf("serve: close database: %w", err)
	}
	return nil
}

func loopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func serveLogger(w io.Writer, format string) *slog.Logger {
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, nil))
	case "none":
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

func buildReadyInfo(srv *testserver.Server, db, caFile string) readyInfo {
	cfg := srv.Config()
	md := srv.Metadata()
	info := readyInfo{Issuer: srv.Issuer(), Registration: string(cfg.Registration), Endpoints: map[string]string{},
		DB: db, TLSCAFile: caFile, Templates: []string{}, Users: []readyUser{}, Clients: []readyClient{}}
	if info.Registration == "" {
		info.Registration = string(testserver.ModeClient)
	}
	if info.DB == "" {
		info.DB = ":memory:"
	}
	for k, v := range md {
		if s, ok := v.(string); ok && (strings.HasSuffix(k, "_endpoint") || k == "jwks_uri") {
			info.Endpoints[k] = s
		}
	}
	info.Endpoints["openid_configuration"] = srv.Issuer() + "/.well-known/openid-configuration"
	for _, c := range cfg.Clients {
		rc := readyClient{ClientID: c.ClientID, ClientSecret: c.ClientSecret, AuthMethod: c.TokenEndpointAuthMethod, GrantTypes: c.GrantTypes, Scope: c.Scope}
		if rc.AuthMethod == "none" {
			rc.ClientSecret = ""
			if info.NativeClient == "" {
				info.NativeClient = c.ClientID
			}
		} else if info.ClientID == "" && slices.Contains(rc.GrantTypes, "client_credentials") {
			info.ClientID, info.ClientSecret, info.Scope = c.ClientID, c.ClientSecret, c.Scope
		}
		info.Clients = append(info.Clients, rc)
	}
	for _, t := range cfg.Templates {
		info.Templates = append(info.Templates, t.ID)
	}
	for _, u := range cfg.Users {
		info.Users = append(info.Users, readyUser{u.Username, u.Password})
	}
	if len(info.Users) > 0 {
		info.DemoUser = &info.Users[0]
	}
	return info
}

func printReady(w io.Writer, info readyInfo) {
	fmt.Fprintf(w, "dcrctl serve: authorization server ready\n\n")
	fmt.Fprintf(w, "  issuer        %s\n", info.Issuer)
	fmt.Fprintf(w, "  discovery     %s\n", info.Endpoints["openid_configuration"])
	fmt.Fprintf(w, "  registration  %s (mode %s)\n", orNone(info.Endpoints["registration_endpoint"]), info.Registration)
	fmt.Fprintf(w, "  token         %s\n", info.Endpoints["token_endpoint"])
	fmt.Fprintf(w, "  authorize     %s\n", info.Endpoints["authorization_endpoint"])
	fmt.Fprintf(w, "  device        %s\n", info.Endpoints["device_authorization_endpoint"])
	fmt.Fprintf(w, "  database      %s\n", info.DB)
	printControl(w, info.Control)
	if info.BehaveLike != "" {
		fmt.Fprintf(w, "  behaves like  %s (see the README, Behaviour profiles)\n", info.BehaveLike)
	}
	if info.TLSCAFile != "" {
		fmt.Fprintf(w, "  certificate   %s (self-signed; trust it in your client)\n", info.TLSCAFile)
	}
	fmt.Fprintf(w, "\nClients:\n")
	for _, c := range info.Clients {
		fmt.Fprintf(w, "  %s  (%s; %s; scope %q)\n", c.ClientID, c.AuthMethod, strings.Join(c.GrantTypes, ", "), c.Scope)
		if c.ClientSecret != "" {
			fmt.Fprintf(w, "      client_secret: %s\n", c.ClientSecret)
		}
	}
	fmt.Fprintf(w, "Templates: %s\n", orNone(strings.Join(info.Templates, ", ")))
	for _, u := range info.Users {
		fmt.Fprintf(w, "User: %s / %s\n", u.Username, u.Password)
	}
	fmt.Fprintf(w, "\nPress Ctrl-C to stop.\n")
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// flushWriter buffers writes to w and flushes them every interval and on Flush and Close.
type flushWriter struct {
	mu   sync.Mutex
	bw   *bufio.Writer
	stop chan struct{}
	done chan struct{}
}

func newFlushWriter(w io.Writer, every time.Duration) *flushWriter {
	f := &flushWriter{bw: bufio.NewWriterSize(w, 32<<10), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(f.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-f.stop:
				return
			case <-t.C:
				f.Flush()
			}
		}
	}()
	return f
}

func (f *flushWriter) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.bw.Write(p)
}

// Flush writes out what is buffered.
func (f *flushWriter) Flush() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bw.Flush()
}

// Close stops the flusher and flushes.
func (f *flushWriter) Close() error {
	select {
	case <-f.stop:
	default:
		close(f.stop)
		<-f.done
	}
	f.Flush()
	return nil
}
