package cmd

import (
	"context"
	"fmt"
	"net"
	"strings"
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
	ResourcePath string
	CIMD         serveCIMDOptions

	// ready, if set, is called once the server accepts connections (tests).
	ready func(addr string)
}

func newServeCmd(g *GlobalOptions) *cobra.Command {
	opts := &serveOptions{IO: g.IO}
	c := &cobra.Command{
		Use:     "serve",
		Short:   "Run a local authorization server with dynamic client registration",
		Long:    serveLong,
		Example: serveExample,
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			opts.Output, opts.CIMD.roots = g.Output, g.settings.RootCAs
			if c.Flags().Changed("issuer") {
				opts.Issuer = g.Issuer
			}
			ctx, cancel := g.Context(c)
			defer cancel()
			ctx, stopWatch := untilStdoutCloses(ctx, g.IO, "dcrctl serve") // serve -o json | head -1 returns
			defer stopWatch()
			return serveRun(ctx, opts)
		},
	}
	c.AddCommand(newServeExportCmd(g))
	f := c.Flags()
	f.StringVar(&opts.Addr, "addr", DefaultServeAddr, "listen address HOST:PORT (port 0 picks a free one)")
	f.StringVar(&opts.DB, "db", "", "SQLite database file, or a postgres:// URL without password (default: dcrctl/serve.db under your data directory)")
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
	f.StringVar(&opts.ResourcePath, "resource-path", "", "also be a protected resource at this path below the issuer, e.g. /mcp (RFC 9728 metadata; tokens requested with resource= it, RFC 8707)")
	addServeCIMDFlags(f, &opts.CIMD)
	f.IntVar(&opts.MaxConns, "max-conns", 0, fmt.Sprintf("most connections open at once; idle ones are closed to make room (default %d)", testserver.DefaultMaxConns))
	return c
}

func serveRun(ctx context.Context, opts *serveOptions) error {
	cfg, err := opts.config()
	if err != nil {
		return err
	}
	host, err := opts.checkListen()
	if err != nil {
		return err
	}
	tlsCfg, caFile, removeCA, err := opts.tlsConfig(host, cfg.DBPath)
	if err != nil {
		return err
	}
	defer removeCA() // nothing outlives an in-memory server
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", opts.Addr)
	if err != nil {
		return fmt.Errorf("serve: listen on %s: %w", opts.Addr, err)
	}
	defer ln.Close()
	if cfg.Issuer, err = opts.issuer(cfg.Issuer, ln.Addr().(*net.TCPAddr), tlsCfg != nil); err != nil {
		return err
	}
	if err := applyDebugPage(opts.IO, opts.DebugPage, &cfg, loopbackHost(host)); err != nil {
		return err
	}
	// The request log is buffered (one write per burst, not per request) and flushed often.
	logw := newFlushWriter(opts.IO.ErrOut, 200*time.Millisecond)
	defer logw.Close()
	cfg.Logger = serveLogger(logw, opts.LogFormat)
	cfg.TLS = tlsCfg
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
	if err := opts.announce(srv, cfg, caFile, control, ln.Addr().String()); err != nil {
		return err
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
