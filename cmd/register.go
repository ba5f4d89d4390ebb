package cmd

import (
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/dcrctl/dcrctl/keystore"
)

func init() { subcommands = append(subcommands, newRegisterCmd) }

// registerOptions are the inputs of dcrctl register.
type registerOptions struct {
	G           *GlobalOptions
	Token       initialTokenOptions
	Template    string
	Edits       metadataEdits
	Name        string
	ShowSecrets bool
	DryRun      bool

	// Store, when set, replaces the keystore chosen by --keystore (tests).
	Store keystore.Store
}

func newRegisterCmd(g *GlobalOptions) *cobra.Command {
	opts := &registerOptions{G: g}
	c := &cobra.Command{
		Use:   "register --issuer URL [initial token] (--template ID | -f FILE | --set k=v ...) [--name NAME]",
		Short: "Register a client (RFC 7591) and store its credential",
		Long: `Register a new client at the issuer's registration endpoint (RFC 7591) and store the
credential (client_id, client_secret, registration access token) in the keystore.

The initial access token (one way, or none for open registration):
  --client-credentials --client-id ID   the client credentials grant; the secret comes from
                                        --client-secret-file FILE, - (stdin) or DCRCTL_CLIENT_SECRET
  --login --client-id ID                a browser login (code + PKCE), user-authenticated
  --device --client-id ID               the device grant
  --token-file FILE                     a token you already have ("-" = stdin)
  DCRCTL_TOKEN                          the same, from the environment
A profile's client_id, client_secret_file and flow fill in what is not given.

The client:
  --template ID        an instance of a template client configured on the server
                       (sent as {"software_id": ID})
  -f FILE              client metadata as a JSON object ("-" = stdin)
  --set key=value      one member; the value is JSON when it parses as JSON, else a string
  --unset key          drop a member (from -f)

The credential is stored as --name NAME (default: the template or client name plus the start
of the client_id). Secrets are printed only with --show-secrets. With --keystore none nothing
is stored, so --show-secrets is required.

Nothing is lost: if the credential cannot be stored after the server registered the client,
the registration is rolled back with an RFC 7592 delete, or, when that is impossible, saved to a
recovery file (mode 0600) whose path the error names.`,
		Example: `  # client-authenticated, from a template (dcrctl serve's bootstrap client)
  dcrctl register --issuer http://127.0.0.1:8414 --client-credentials --client-id bootstrap \
      --client-secret-file bootstrap.secret --template native-app --name my-app
  # from a file, in CI, secrets as JSON for jq
  DCRCTL_TOKEN=$(dcrctl token --client-credentials --client-id ci ...) \
      dcrctl register -f client.json --name ci-app -o json --show-secrets | jq -r .client_secret
  # user-authenticated: log in in the browser, then describe the client inline
  dcrctl register --login --client-id dcrctl --set client_name=Shop \
      --set 'redirect_uris=["http://127.0.0.1/callback"]' --set application_type=native`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			ctx, cancel := g.Context(c)
			defer cancel()
			if err := opts.Token.check(); err != nil {
				return err // before any request
			}
			if opts.DryRun {
				return registerDryRun(ctx, opts)
			}
			return registerRun(ctx, opts)
		},
	}
	opts.addFlags(c.Flags())
	return c
}

func (opts *registerOptions) addFlags(f *pflag.FlagSet) {
	opts.Token.addFlags(f)
	f.StringVar(&opts.Template, "template", "", "register an instance of this template (software_id)")
	f.StringVarP(&opts.Edits.File, "file", "f", "", `client metadata as a JSON object from FILE ("-" = stdin)`)
	f.StringArrayVar(&opts.Edits.Set, "set", nil, "set a metadata member: key=value (value parsed as JSON if valid, else a string)")
	f.StringArrayVar(&opts.Edits.Unset, "unset", nil, "remove a metadata member")
	f.StringVar(&opts.Name, "name", "", "local name of the stored credential (default: derived from the template or client name)")
	f.BoolVar(&opts.ShowSecrets, "show-secrets", false, "print the client secret and the registration access token")
	f.BoolVar(&opts.DryRun, "dry-run", false, "print the registration request (method, URL, headers, JSON body; secrets redacted) and send nothing: no initial token is fetched, nothing stored")
}
