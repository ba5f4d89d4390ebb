package cmd

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/spf13/cobra"

	"github.com/dcrctl/dcrctl/client/bench"
)

func init() { subcommands = append(subcommands, newBenchCmd) }

// benchOptions are the inputs of dcrctl bench.
type benchOptions struct {
	G                                      *GlobalOptions
	ClientID, ClientSecretFile, AuthMethod string
	TokenFile, Template, File, Steps       string
	Cfg                                    bench.Config
	Yes, InstallsSet                       bool
}

func newBenchCmd(g *GlobalOptions) *cobra.Command {
	o := &benchOptions{G: g}
	c := &cobra.Command{
		Use:   "bench --issuer URL (--client-id ID | --token-file FILE) (--template T | -f FILE) [bounds] [--concurrency C | --rate R]",
		Short: "Load-test a DCR server as N app installations (token, register, login, read, delete)",
		Long: `Play N installations of an app, each the --steps: an initial access token by the client
credentials grant of --client-id (or one reusable --token-file), RFC 7591 registration, a client
credentials token as the new client, RFC 7592 read and delete. Reports per step requests, errors
by status and OAuth code, throughput, latency quantiles and histogram. Closed loop
(--concurrency) or open loop (--rate, latency from the due time); stops at --installs,
--duration, --max-requests or Ctrl-C; deletes what it registered unless --keep.`,
		Example: `  dcrctl bench --client-id bootstrap --client-secret-file bootstrap.secret -f app.json --installs 2000
  dcrctl bench --token-file iat --steps register,read,delete --template T --rate 200 --duration 30s -o json`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			ctx, cancel := g.Context(c)
			defer cancel()
			o.InstallsSet = c.Flags().Changed("installs")
			return benchRun(ctx, o)
		},
	}
	f := c.Flags()
	f.StringVar(&o.ClientID, "client-id", "", "the client whose client credentials grant gives each installation its initial token")
	f.StringVar(&o.ClientSecretFile, "client-secret-file", "", `read that client's secret from FILE ("-" = stdin); default: env DCRCTL_CLIENT_SECRET`)
	f.StringVar(&o.AuthMethod, "auth-method", "", "that client's token_endpoint_auth_method")
	f.StringVar(&o.TokenFile, "token-file", "", `one reusable initial access token for every registration, from FILE ("-" = stdin)`)
	f.StringVar(&o.Template, "template", "", "register instances of this template (software_id)")
	f.StringVarP(&o.File, "file", "f", "", "register this client metadata (a JSON object); the login step needs a confidential client_credentials client")
	f.StringVar(&o.Steps, "steps", "", "comma-separated steps (default token,register,login,read,delete; without token with --token-file)")
	f.IntVar(&o.Cfg.Installs, "installs", 100, "stop after starting this many installations (default 100 unless --duration or --max-requests; 0 = no limit)")
	f.IntVar(&o.Cfg.Concurrency, "concurrency", 0, "workers, one connection each (default 8; with --rate the most in flight, default 64)")
	f.Float64Var(&o.Cfg.Rate, "rate", 0, "open loop: start this many installations per second")
	f.DurationVar(&o.Cfg.Duration, "duration", 0, "stop after this long (0 = no limit)")
	f.Int64Var(&o.Cfg.MaxRequests, "max-requests", 0, "stop after this many requests (0 = no limit)")
	f.DurationVar(&o.Cfg.Timeout, "request-timeout", 30*time.Second, "time limit of each request")
	f.BoolVar(&o.Cfg.Keep, "keep", false, "leave the registered clients on the server")
	f.BoolVar(&o.Yes, "yes", false, "do not ask before loading a host that is not loopback")
	return c
}

func benchRun(ctx context.Context, o *benchOptions) error {
	g := o.G
	cfg, err := o.config()
	if err != nil {
		return err
	}
	if err := confirmHost(g.IO, cfg.Issuer, "bench registers (and then deletes) real clients there and loads the server", o.Yes); err != nil {
		return err
	}
	if g.IO.ErrTTY {
		cfg.Progress = func(p bench.Progress) { fmt.Fprintf(g.IO.ErrOut, "\r\x1b[K%s", p) }
	}
	// The generator must not be the bottleneck: its heap is small, so trade memory for less GC.
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	r, err := bench.Run(ctx, cfg)
	if g.IO.ErrTTY {
		fmt.Fprint(g.IO.ErrOut, "\r\x1b[K")
	}
	if r == nil {
		return err
	}
	if g.Output == "json" {
		err = errors.Join(err, writeJSON(g.IO.Out, r))
	} else {
		err = errors.Join(err, r.WriteText(g.IO.Out))
	}
	switch {
	case err != nil:
		return err
	case len(r.Cleanup.Failed) > 0:
		return fmt.Errorf("could not delete %d of the clients the run registered (listed in the report): delete them on the server", len(r.Cleanup.Failed))
	case r.StoppedBy == bench.StopInterrupted:
		return fmt.Errorf("bench: stopped early; the report is partial: %w", ctx.Err())
	}
	return nil
}

// config turns the flags into the engine's Config.
func (o *benchOptions) config() (bench.Config, error) {
	g, cfg := o.G, o.Cfg
	var err error
	if cfg.Issuer, err = g.requireIssuer(); err != nil {
		return cfg, err
	} else if err = checkAuthMethod(o.AuthMethod); err != nil {
		return cfg, err
	}
	if !o.InstallsSet && (cfg.Duration > 0 || cfg.MaxRequests > 0) {
		cfg.Installs = 0 // the default bound gives way to the one given
	}
	steps := o.Steps
	if steps == "" {
		steps = "token,register,login,read,delete"
		if o.TokenFile != "" {
			steps = "register,login,read,delete"
		}
	}
	if cfg.Steps, err = bench.ParseSteps(steps); err != nil {
		return cfg, usageErrorf("--steps: %v", err)
	}
	if o.TokenFile != "" {
		if cfg.InitialToken, err = readSecret(g.IO, "initial access token", o.TokenFile, ""); err != nil {
			return cfg, err
		}
	} else if cfg.ClientID = o.ClientID; cfg.ClientID == "" {
		cfg.ClientID = g.settings.Profile.ClientID
	}
	if o.TokenFile == "" && cfg.ClientID != "" {
		if cfg.ClientSecret, err = readSecret(g.IO, "client secret", o.ClientSecretFile, "DCRCTL_CLIENT_SECRET"); err != nil {
			return cfg, err
		}
		cfg.AuthMethod = o.AuthMethod
	}
	if cfg.ClientID == "" && cfg.Steps[0] == bench.StepToken {
		return cfg, usageErrorf("the token step needs --client-id ID (the server's bootstrap client) with its secret in --client-secret-file or DCRCTL_CLIENT_SECRET; or give --token-file FILE without the token step")
	}
	switch {
	case o.Template != "" && o.File != "":
		return cfg, usageErrorf("give one of --template and -f")
	case o.Template != "":
		cfg.Template = o.Template
	case o.File != "":
		members, err := metadataEdits{File: o.File}.apply(g.IO, nil)
		if err != nil {
			return cfg, err
		}
		if cfg.Metadata, err = toMetadata(members); err != nil {
			return cfg, err
		}
	case cfg.Steps[len(cfg.Steps)-1] != bench.StepToken:
		return cfg, usageErrorf("what to register: give --template ID or -f FILE")
	}
	cfg.UserAgent = g.sdk().UserAgent
	return cfg, nil
}
