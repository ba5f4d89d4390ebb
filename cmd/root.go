// Package cmd is the dcrctl command tree: flag parsing, output and exit codes. It holds no
// protocol logic; that lives in packages client, flows, keystore, testserver and
// client/registrar (the registration lifecycle). Commands are thin: flags in, one call into
// a package, output out. Each command-line policy has one home here:
//
//   - advice.go, advicenet.go: the next step added to a library error (flag and command names)
//   - exit.go: exit codes, decided by one ordered table; usage.go: argument errors exit 2
//   - outputs.go: which -o values each command honours; envout.go: the -o env names
//   - colour.go: colour on terminals only
//   - grant.go, grantcheck.go: every token grant (token, register's initial token, login);
//     browserrule.go: when a browser opens
//   - endpoints.go: explicit endpoints (flags and profiles)
//   - secrets.go: reading a secret without argv, and one stdin reader
//   - confirm.go: questions on a terminal (--yes)
//   - steps.go: what Ctrl-C or --timeout stopped
//   - globalshttp.go: the one HTTP client (package client's policy, --ca-file, --verbose)
//   - storeaccess.go: which keystore holds a credential
package cmd

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/dcrctl/dcrctl/client"
)

var fmtErrorf = fmt.Errorf

// GlobalOptions are the flags every command shares.
type GlobalOptions struct {
	IO      *IOStreams
	Build   BuildInfo
	Issuer  string        // --issuer, or DCRCTL_ISSUER
	Output  string        // -o: table (default), json, yaml, env
	Verbose bool          // -v: a redacted HTTP trace on stderr
	Timeout time.Duration // --timeout for the whole command; 0 = none

	Profile   string // --profile, or DCRCTL_PROFILE: a named profile of the config file
	Keystore  string // --keystore, or DCRCTL_KEYSTORE, or the profile's: os, file or none
	EnvPrefix string // --env-prefix: the start of every name -o env prints (envout.go)
	CAFile    string // --ca-file: PEM certificates trusted besides the system roots
	// Endpoints are given explicitly, for servers whose discovery lacks them (endpoints.go).
	Endpoints client.Endpoints
	// Resource is --resource: a protected resource whose metadata names the issuer (resource.go).
	Resource string

	// settings holds what the profile and the environment decided (see globals.go).
	settings settings
	// steps is what the command waits for, for Ctrl-C and --timeout (steps.go); shared by
	// copies of the options, nil in tests that build them by hand.
	steps *steps
}

// Main runs dcrctl with the process's arguments and streams and returns the exit code.
func Main(build BuildInfo) int {
	info, _ := debug.ReadBuildInfo()
	build = build.withBuildSettings(info)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Run(ctx, System(), build, os.Args[1:])
}

// Run executes the command line args and returns the exit code. Errors are printed to
// ios.ErrOut, with what to do next.
func Run(ctx context.Context, ios *IOStreams, build BuildInfo, args []string) int {
	root, g := newRoot(ios, build)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if _, _, ferr := root.Find(args); ferr != nil && err != nil {
		err = &UsageError{Err: fmt.Errorf("%w (see 'dcrctl --help')", err)} // an unknown command
	}
	err = withAdvice(g.interrupted(err))
	if err != nil {
		fmt.Fprintf(ios.ErrOut, "%s %s\n", ios.errorPrefix(), err)
	}
	return ExitCode(err)
}

// NewRootCmd builds the command tree.
func NewRootCmd(ios *IOStreams, build BuildInfo) *cobra.Command {
	root, _ := newRoot(ios, build)
	return root
}

func newRoot(ios *IOStreams, build BuildInfo) (*cobra.Command, *GlobalOptions) {
	g := &GlobalOptions{IO: ios, Build: build, steps: &steps{}}
	root := &cobra.Command{
		Use:   "dcrctl",
		Short: "Register and manage OAuth 2.0 clients dynamically (RFC 7591, RFC 7592)",
		Long: `dcrctl registers OAuth 2.0 clients at an authorization server's registration
endpoint (RFC 7591), keeps their credentials in the OS keyring, manages them later
(RFC 7592), and runs a local authorization server for testing (dcrctl serve).

` + exitCodeHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(c *cobra.Command, _ []string) error {
			if err := checkOutput(c, g.Output); err != nil {
				return err
			}
			g.settings.IssuerFlag = c.Flags().Changed("issuer")
			// The profile and the environment fill in what the flags left out (globals.go).
			return g.setup()
		},
	}
	root.SetIn(ios.In)
	root.SetOut(ios.Out)
	root.SetErr(ios.ErrOut)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &UsageError{Err: fmt.Errorf("%w (see '%s --help')", err, c.CommandPath())}
	})
	pf := root.PersistentFlags()
	pf.StringVar(&g.Issuer, "issuer", "", "authorization server issuer URL (env DCRCTL_ISSUER)")
	pf.StringVar(&g.Resource, "resource", "", "a protected resource (an MCP server URL, say): its RFC 9728 metadata names the issuer, and tokens are requested for it (RFC 8707)")
	pf.StringVarP(&g.Output, "output", "o", "table", "output format: table, json, yaml or env")
	pf.BoolVarP(&g.Verbose, "verbose", "v", false, "print a redacted HTTP trace to stderr")
	pf.BoolVar(&ios.NoColor, "no-color", false, "disable colour (also NO_COLOR)")
	pf.DurationVar(&g.Timeout, "timeout", 0, "time limit for the whole command, e.g. 30s (0 = none)")
	pf.StringVar(&g.Profile, "profile", "", "named profile from the config file (env DCRCTL_PROFILE)")
	pf.StringVar(&g.EnvPrefix, "env-prefix", defaultEnvPrefix, "-o env: the start of every variable name (never DCRCTL_, which dcrctl reads)")
	pf.StringVar(&g.CAFile, "ca-file", "", "trust the PEM certificates in FILE besides the system roots (also SSL_CERT_FILE)")
	addEndpointFlags(pf, &g.Endpoints)
	pf.StringVar(&g.Keystore, "keystore", "", "where credentials are kept: os (the OS keyring, default), file (plaintext, insecure) or none (env DCRCTL_KEYSTORE)")

	root.AddCommand(newVersionCmd(g))
	for _, add := range subcommands {
		root.AddCommand(add(g))
	}
	usageArgs(root)
	completeFlagValues(root, g)
	return root, g
}

// subcommands is filled by each command's file in init, so that the files stay independent.
var subcommands []func(*GlobalOptions) *cobra.Command

// Context returns the command's context bounded by --timeout.
func (g *GlobalOptions) Context(c *cobra.Command) (context.Context, context.CancelFunc) {
	ctx := c.Context()
	if g.Timeout > 0 {
		return context.WithTimeout(ctx, g.Timeout)
	}
	return context.WithCancel(ctx)
}
