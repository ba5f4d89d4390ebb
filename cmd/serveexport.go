package cmd

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/dcrctl/dcrctl/testserver"
)

func newServeExportCmd(g *GlobalOptions) *cobra.Command {
	var db, config string
	c := &cobra.Command{
		Use:   "export FILE",
		Short: "Write the whole state of a dcrctl serve database to a file",
		Long: `Write the state of a dcrctl serve database — registered clients, tokens, sessions, device
authorizations, the signing key and generated static client secrets — as JSON to FILE, created
readable only by you. Secrets appear only as the hashes the database holds. dcrctl serve
--import FILE loads it. For a server running with --memory, use the control API instead
(GET /_control/export).`,
		Example: `  dcrctl serve export state.json
  dcrctl serve export --db ./dcr.db state.json && dcrctl serve --memory --import state.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			ctx, cancel := g.Context(c)
			defer cancel()
			return serveExportRun(ctx, g.IO, db, config, args[0])
		},
	}
	c.Flags().StringVar(&db, "db", "", "the database (default: dcrctl/serve.db under your data directory)")
	c.Flags().StringVar(&config, "config", "", "the server's YAML configuration, for its database path")
	return c
}

func serveExportRun(ctx context.Context, io *IOStreams, db, config, file string) error {
	cfg := testserver.ServeDefaults() // as dcrctl serve reads it
	if config != "" {
		var err error
		if cfg, err = testserver.LoadConfigOver(config, cfg); err != nil {
			return usageErrorf("%v", err)
		}
	}
	switch {
	case db != "":
		cfg.DBPath = db
	case cfg.DBPath == "":
		p, err := testserver.DefaultDBPath(io.getenv)
		if err != nil {
			return usageErrorf("%v: use --db FILE", err)
		}
		cfg.DBPath = p
	}
	if _, err := os.Stat(cfg.DBPath); err != nil && !testserver.IsPostgres(cfg.DBPath) {
		return usageErrorf("no database at %s: use --db FILE", cfg.DBPath)
	}
	if cfg.Issuer == "" {
		cfg.Issuer = testserver.DefaultIssuer
	}
	srv, err := testserver.New(cfg)
	if err != nil {
		return err
	}
	defer srv.Close()
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("serve export: %w", err)
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("serve export: %w", err)
	}
	if err := srv.Export(ctx, f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("serve export: %w", err)
	}
	fmt.Fprintf(io.ErrOut, "dcrctl serve export: wrote %s\n", file)
	return nil
}

// importState loads --import FILE into a server that is not serving yet.
func (o *serveTestOptions) importState(ctx context.Context, srv *testserver.Server) error {
	if o.Import == "" {
		return nil
	}
	f, err := os.Open(o.Import)
	if err != nil {
		return usageErrorf("--import: %v", err)
	}
	defer f.Close()
	return srv.Import(ctx, f)
}
