package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dcrctl/dcrctl/client"
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

	// Store, when set, replaces the keystore chosen by --keystore (tests).
	Store keystore.Store
	// RecoveryDir is where a recovery file goes; "" means the config directory's "recovery".
	RecoveryDir string
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
			return registerRun(ctx, opts)
		},
	}
	f := c.Flags()
	opts.Token.addFlags(f)
	f.StringVar(&opts.Template, "template", "", "register an instance of this template (software_id)")
	f.StringVarP(&opts.Edits.File, "file", "f", "", `client metadata as a JSON object from FILE ("-" = stdin)`)
	f.StringArrayVar(&opts.Edits.Set, "set", nil, "set a metadata member: key=value (value parsed as JSON if valid, else a string)")
	f.StringArrayVar(&opts.Edits.Unset, "unset", nil, "remove a metadata member")
	f.StringVar(&opts.Name, "name", "", "local name of the stored credential (default: derived from the template or client name)")
	f.BoolVar(&opts.ShowSecrets, "show-secrets", false, "print the client secret and the registration access token")
	return c
}

// responseOnlyMembers are members of a client information response (RFC 7591 §3.2.1) that a
// request does not carry: the server issues them. RFC 7592 §2.2: "The client MUST NOT include
// the registration_access_token, registration_client_uri, client_secret_expires_at, or
// client_id_issued_at fields in the request" (client.Update sends client_id and the secret
// itself, as §2.2 requires).
var responseOnlyMembers = []string{"client_id", "client_secret", "client_id_issued_at", "client_secret_expires_at",
	"registration_access_token", "registration_client_uri"}

func registerRun(ctx context.Context, opts *registerOptions) error {
	g := opts.G
	issuer, err := g.requireIssuer()
	if err != nil {
		return err
	}
	if opts.Name != "" && !validName(opts.Name) {
		return usageErrorf("--name %q: use letters, digits, '.', '_' and '-' (at most 64), starting with a letter or digit", opts.Name)
	}
	members, err := opts.Edits.apply(g.IO, nil)
	if err != nil {
		return err
	}
	for _, k := range responseOnlyMembers {
		if _, ok := members[k]; ok && k != "client_id" {
			delete(members, k)
			fmt.Fprintf(g.IO.ErrOut, "warning: %s is issued by the server, not sent in a registration: ignored\n", k)
		}
	}
	delete(members, "client_id")
	md, err := toMetadata(members)
	if err != nil {
		return err
	}
	if opts.Template != "" && md.SoftwareID != "" && md.SoftwareID != opts.Template {
		return usageErrorf("--template %q and software_id %q differ: give one of them", opts.Template, md.SoftwareID)
	}

	// Where the credential will go; checked before anything is registered.
	st := opts.Store
	if st == nil && g.Keystore == keystoreNone {
		if !opts.ShowSecrets {
			return usageErrorf("--keystore none stores nothing, so the secrets would be lost: add --show-secrets (and -o json or -o env), or use --keystore os or file")
		}
	} else if st == nil {
		if st, err = g.openStore(); err != nil {
			return err
		}
	}
	var taken map[string]bool
	if st != nil {
		list, err := st.List(ctx)
		if err != nil {
			return err
		}
		taken = map[string]bool{}
		for _, c := range list {
			taken[c.Name] = true
		}
		if opts.Name != "" && taken[opts.Name] {
			return usageErrorf("a credential named %q is stored already: choose another --name, or remove it first (dcrctl delete %s, or dcrctl forget %s)", opts.Name, opts.Name, opts.Name)
		}
	}

	sdk := g.sdk()
	meta, err := sdk.Discover(ctx, issuer)
	if err != nil {
		return err
	}
	if meta.RegistrationEndpoint == "" {
		return fmt.Errorf("%s advertises no registration_endpoint: dynamic registration is disabled there; ask its administrator, or check --issuer (dcrctl discover shows what it offers)", issuer)
	}
	token, err := opts.Token.get(ctx, g, issuer, meta)
	if err != nil {
		return err
	}
	var reg *client.Registration
	if opts.Template != "" {
		reg, err = sdk.RegisterTemplate(ctx, meta.RegistrationEndpoint, token, opts.Template, md)
	} else {
		reg, err = sdk.Register(ctx, meta.RegistrationEndpoint, token, md)
	}
	if reg == nil {
		if err != nil && token == "" {
			var ce *client.Error
			if errors.As(err, &ce) && ce.StatusCode == 401 {
				return fmt.Errorf("%w (no initial access token was sent: the server wants one; add --client-credentials --client-id ID, --login, --device or --token-file)", err)
			}
		}
		return err
	}
	incomplete := err // the server acted: keep what it created, then report

	name := opts.Name
	if name == "" {
		name = defaultName(opts.Template, reg, taken)
	}
	template := opts.Template
	view := registrationView{Name: name, Issuer: issuer, Keystore: g.Keystore, Reg: reg, Secrets: opts.ShowSecrets}
	if st == nil { // --keystore none
		view.Keystore = "none (not stored)"
		if err := writeRegistration(g.IO.Out, g.Output, view); err != nil {
			return err
		}
		return incomplete
	}
	cred, err := credentialFrom(name, issuer, template, reg)
	if err == nil {
		err = st.Put(ctx, cred)
	}
	if err != nil {
		return rollback(ctx, opts, sdk, reg, cred, view, err)
	}
	fmt.Fprintf(g.IO.ErrOut, "registered client %s at %s; stored as %q (keystore %s)\n", reg.ClientID, issuer, name, view.Keystore)
	if err := writeRegistration(g.IO.Out, g.Output, view); err != nil {
		return err
	}
	if incomplete != nil {
		return fmt.Errorf("%w (the client was registered and stored as %q; check it with dcrctl get %s)", incomplete, name, name)
	}
	return nil
}

// rollback keeps the "nothing lost" promise after a registration the keystore could not take:
// a recovery file first, then an RFC 7592 §2.3 delete ("A successful delete action will
// invalidate the client_id, client_secret, and registration access token for this client"),
// and the error says which of the two holds.
func rollback(ctx context.Context, opts *registerOptions, sdk *client.Client, reg *client.Registration,
	cred keystore.Credential, view registrationView, storeErr error) error {
	g := opts.G
	dir := opts.RecoveryDir
	if dir == "" {
		dir = filepath.Join(g.settings.ConfigDir, "recovery")
	}
	path, werr := keystore.WriteRecovery(dir, cred)
	// The command's own deadline may be what made the store fail: give the rollback its own.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
	defer cancel()
	var derr error
	if reg.RegistrationAccessToken == "" || reg.RegistrationClientURI == "" {
		derr = errors.New("the server issued no registration access token, so the registration cannot be deleted by dcrctl")
	} else {
		derr = sdk.Delete(rctx, reg)
	}
	if derr == nil {
		if werr == nil {
			_ = os.Remove(path)
		}
		return &storeError{fmt.Errorf("could not store the credential (%w); the registration of client %s was rolled back at the server (RFC 7592 delete), so nothing was created: fix the keystore, then register again", storeErr, reg.ClientID)}
	}
	if werr == nil {
		return &storeError{fmt.Errorf("could not store the credential (%w), and rolling the registration back failed (%v); the credential of client %s was saved to %s (mode 0600): run dcrctl import %s once the keystore works, then delete the file", storeErr, derr, reg.ClientID, path, path)}
	}
	if opts.ShowSecrets && (g.Output == "json" || g.Output == "yaml" || g.Output == "env") {
		view.Keystore = "none (not stored)"
		if err := writeRegistration(g.IO.Out, g.Output, view); err == nil {
			return &storeError{fmt.Errorf("could not store the credential (%w), roll the registration back (%v) or write a recovery file (%v): the credential of client %s is on standard output only: keep it safe now", storeErr, derr, werr, reg.ClientID)}
		}
	}
	return &storeError{fmt.Errorf("could not store the credential (%w), roll the registration back (%v) or write a recovery file (%v): client %s exists at the server but its secrets are lost; ask the server's administrator to delete it, fix the keystore, and register again (with -o json --show-secrets the secrets would have been printed)", storeErr, derr, werr, reg.ClientID)}
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

func validName(s string) bool { return nameRE.MatchString(s) }

var slugRE = regexp.MustCompile(`[^a-z0-9]+`)

// defaultName derives a credential name: the template or client name, plus the first
// characters of the client_id, unique among taken.
func defaultName(template string, reg *client.Registration, taken map[string]bool) string {
	base := template
	if base == "" {
		base = reg.ClientName
	}
	base = strings.Trim(slugRE.ReplaceAllString(strings.ToLower(base), "-"), "-")
	if len(base) > 40 {
		base = strings.Trim(base[:40], "-")
	}
	if base == "" {
		base = "client"
	}
	id := strings.Trim(slugRE.ReplaceAllString(strings.ToLower(reg.ClientID), ""), "-")
	for n := 8; ; n += 4 {
		suffix := id
		if len(suffix) > n {
			suffix = suffix[:n]
		}
		name := base
		if suffix != "" {
			name += "-" + suffix
		}
		if !taken[name] || n > len(id)+8 {
			if taken[name] {
				name += "-" + time.Now().UTC().Format("20060102150405")
			}
			return name
		}
	}
}

// stripResponseOnly removes members a request must not carry.
func stripResponseOnly(m map[string]json.RawMessage) {
	for _, k := range responseOnlyMembers {
		delete(m, k)
	}
}
