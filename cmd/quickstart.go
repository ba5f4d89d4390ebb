package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dcrctl/dcrctl/client"
	"github.com/dcrctl/dcrctl/flows"
	"github.com/dcrctl/dcrctl/keystore"
	"github.com/dcrctl/dcrctl/testserver"
)

func init() { subcommands = append(subcommands, newQuickstartCmd) }

// quickstartTemplate is the template the quickstart's embedded server adds to the default
// configuration: a confidential service client, so that the new instance can get a token on
// its own (client credentials) without a browser.
const quickstartTemplate = "service"

// quickstartOptions are the inputs of dcrctl quickstart.
type quickstartOptions struct {
	G    *GlobalOptions
	Keep bool // keep the credential in an explicitly chosen keystore
}

func newQuickstartCmd(g *GlobalOptions) *cobra.Command {
	opts := &quickstartOptions{G: g}
	c := &cobra.Command{
		Use:   "quickstart",
		Short: "Run the whole registration mission end to end against an embedded server",
		Long: `Run dynamic client registration end to end, with no setup:

  1. start an embedded authorization server (dcrctl serve's) on a free loopback port, with
     temporary storage and RFC 7592 rotation of the registration access token and the client
     secret on every read;
  2. get an initial access token with scope dcr (client credentials grant of its bootstrap client);
  3. register an instance of the template "` + quickstartTemplate + `" (RFC 7591);
  4. store it (in a file keystore in a temporary directory, unless --keystore is given);
  5. read it back through RFC 7592 and store the rotated credentials;
  6. get an access token as the new instance, with the stored (rotated) secret;
  7. delete the registration (RFC 7592) and forget it (unless --keep with --keystore).

Each step is narrated on stdout, without secrets (-o json: a summary object). The exit code is
0 only if every step worked.`,
		Example: `  go run ./cmd/dcrctl quickstart
  dcrctl quickstart -o json | jq .ok
  dcrctl quickstart --keystore os   # use the OS keyring for step 4`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			ctx, cancel := g.Context(c)
			defer cancel()
			return quickstartRun(ctx, opts)
		},
	}
	c.Flags().BoolVar(&opts.Keep, "keep", false, "with --keystore: keep the credential (its server is gone when quickstart ends)")
	return c
}

// quickstartStep is one narrated step (-o json).
type quickstartStep struct {
	Step   string `json:"step"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// quickstartResult is what -o json prints.
type quickstartResult struct {
	OK     bool             `json:"ok"`
	Issuer string           `json:"issuer,omitempty"`
	Steps  []quickstartStep `json:"steps"`
}

type narrator struct {
	w      io.Writer
	table  bool
	result quickstartResult
}

func (n *narrator) step(name string, err error, format string, args ...any) error {
	s := quickstartStep{Step: name, OK: err == nil}
	if err == nil {
		s.Detail = fmt.Sprintf(format, args...)
	} else {
		s.Detail = err.Error()
	}
	n.result.Steps = append(n.result.Steps, s)
	if n.table {
		mark := "ok  "
		if err != nil {
			mark = "FAIL"
		}
		fmt.Fprintf(n.w, " %d %s  %s\n", len(n.result.Steps), mark, s.Detail)
	}
	return err
}

func quickstartRun(ctx context.Context, opts *quickstartOptions) (err error) {
	g := opts.G
	if g.Keystore == keystoreNone {
		return usageErrorf("quickstart stores the credential: use --keystore file or os, or leave --keystore out for a temporary file store")
	}
	if opts.Keep && !g.settings.KeystoreExplicit {
		return usageErrorf("--keep only makes sense with --keystore os or file: without it the store is temporary")
	}
	n := &narrator{w: g.IO.Out, table: g.Output != "json" && g.Output != "yaml"}
	if n.table {
		fmt.Fprintln(n.w, "dcrctl quickstart: dynamic client registration end to end, against an embedded server")
		fmt.Fprintln(n.w)
	}
	defer func() {
		n.result.OK = err == nil
		switch {
		case !n.table:
			if werr := writeData(g.IO.Out, g.Output, n.result, nil); err == nil {
				err = werr
			}
		case err == nil:
			fmt.Fprintf(n.w, "\nEvery step worked. Next: run dcrctl serve in another terminal and try dcrctl register --help.\n")
		}
	}()

	tmp, err := os.MkdirTemp("", "dcrctl-quickstart-")
	if err != nil {
		return n.step("serve", fmt.Errorf("temporary directory: %w: check TMPDIR", err), "")
	}
	defer os.RemoveAll(tmp)

	// 1. The embedded server.
	issuer, stop, err := startQuickstartServer(ctx, filepath.Join(tmp, "server.db"))
	if err != nil {
		return n.step("serve", err, "")
	}
	defer stop()
	n.result.Issuer = issuer.issuer
	n.step("serve", nil, "started an authorization server at %s (temporary storage; rotates credentials on every RFC 7592 read)", issuer.issuer)

	// 2. The initial access token.
	sdk := g.sdk()
	meta, err := sdk.Discover(ctx, issuer.issuer)
	if err != nil {
		return n.step("initial token", err, "")
	}
	boot := issuer.bootstrap
	tok, err := flows.ClientCredentials{TokenURL: meta.TokenEndpoint, ClientID: boot.ClientID, ClientSecret: boot.ClientSecret,
		AuthMethod: boot.TokenEndpointAuthMethod, Scopes: []string{"dcr"}, HTTPClient: g.httpClient()}.Token(ctx)
	if err != nil {
		return n.step("initial token", err, "")
	}
	n.step("initial token", nil, "got an initial access token with scope %q (client credentials grant of %q)", tok.Scope, boot.ClientID)

	// 3. Register from the template.
	reg, err := sdk.RegisterTemplate(ctx, meta.RegistrationEndpoint, tok.AccessToken, quickstartTemplate, client.Metadata{})
	if err != nil {
		return n.step("register", err, "")
	}
	n.step("register", nil, "registered client %s, an instance of template %q (RFC 7591), with a client secret and a registration access token", reg.ClientID, quickstartTemplate)

	// 4. Store it.
	var st keystore.Store
	where := ""
	if g.settings.KeystoreExplicit {
		st, err = g.openStore()
		where = "the " + g.Keystore + " keystore"
	} else {
		st, err = keystore.Open(keystore.KindFile, keystore.Options{ConfigDir: filepath.Join(tmp, "config")})
		where = "a file keystore in " + filepath.Join(tmp, "config") + " (removed at the end)"
	}
	name := defaultName("quickstart", reg, nil)
	var cred keystore.Credential
	if err == nil {
		cred, err = credentialFrom(name, issuer.issuer, quickstartTemplate, reg)
	}
	if err == nil {
		err = st.Put(ctx, cred)
		if err != nil {
			ropts := &registerOptions{G: g, RecoveryDir: filepath.Join(tmp, "recovery")}
			err = rollback(ctx, ropts, sdk, reg, cred, registrationView{Name: name, Reg: reg}, err)
		}
	}
	if err != nil {
		return n.step("store", err, "")
	}
	n.step("store", nil, "stored it as %q in %s", name, where)
	cleanup := !opts.Keep
	defer func() {
		if cleanup {
			_ = st.Delete(context.WithoutCancel(ctx), name)
		}
	}()

	// 5. Read it back through RFC 7592; persist the rotation.
	mo := &manageOptions{G: g, Name: name, Store: st}
	stored, sreg, _, err := mo.load(ctx)
	if err != nil {
		return n.step("read", err, "")
	}
	_, cur, err := mo.readAndPersist(ctx, sdk, st, stored, sreg)
	if err != nil {
		return n.step("read", err, "")
	}
	if cur.ClientID != reg.ClientID {
		return n.step("read", fmt.Errorf("the server returned client %s for %s", cur.ClientID, reg.ClientID), "")
	}
	rotated := []string{}
	if cur.RegistrationAccessToken != reg.RegistrationAccessToken {
		rotated = append(rotated, "registration access token")
	}
	if cur.ClientSecret != reg.ClientSecret {
		rotated = append(rotated, "client secret")
	}
	what := "nothing rotated"
	if len(rotated) > 0 {
		what = "the server rotated the " + strings.Join(rotated, " and the ") + "; the new ones are stored"
	}
	n.step("read", nil, "read it back through RFC 7592 (%q, %s): %s", cur.ClientName, strings.Join(cur.GrantTypes, ", "), what)

	// 6. A token as the new instance, with what the store now holds.
	again, areg, _, err := mo.load(ctx)
	if err != nil {
		return n.step("token", err, "")
	}
	itok, err := flows.ClientCredentials{TokenURL: meta.TokenEndpoint, ClientID: again.ClientID, ClientSecret: again.ClientSecret,
		AuthMethod: areg.TokenEndpointAuthMethod, Scopes: strings.Fields(areg.Scope), HTTPClient: g.httpClient()}.Token(ctx)
	if err != nil {
		return n.step("token", err, "")
	}
	life := "no expiry given"
	if itok.ExpiresIn > 0 {
		life = "expires in " + (time.Duration(itok.ExpiresIn) * time.Second).String()
	}
	n.step("token", nil, "got an access token as client %s with its stored secret (client credentials, scope %q, %s)", again.ClientID, itok.Scope, life)

	// 7. Clean up.
	if opts.Keep {
		n.step("keep", nil, "kept %q in %s (its server stops now: dcrctl forget %s removes it)", name, where, name)
		return nil
	}
	if err := sdk.Delete(ctx, cur); err != nil {
		return n.step("delete", err, "")
	}
	if err := st.Delete(ctx, name); err != nil && !errors.Is(err, keystore.ErrNotFound) {
		return n.step("delete", err, "")
	}
	cleanup = false
	return n.step("delete", nil, "deleted the registration (RFC 7592) and forgot %q", name)
}

// quickstartServer is the embedded server's address and bootstrap client.
type quickstartServer struct {
	issuer    string
	bootstrap testserver.ClientConfig
}

// startQuickstartServer runs testserver on a free loopback port with the default
// configuration plus the quickstart's template and rotation on every read.
func startQuickstartServer(ctx context.Context, db string) (quickstartServer, func(), error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return quickstartServer{}, nil, fmt.Errorf("listen on a loopback port: %w", err)
	}
	cfg := testserver.DefaultConfig()
	cfg.Issuer = "http://" + ln.Addr().String()
	cfg.DBPath = db
	cfg.RotateRegistrationToken = testserver.RotateOnReadAndUpdate
	cfg.RotateClientSecret = testserver.RotateOnReadAndUpdate
	cfg.Templates = append(cfg.Templates, testserver.TemplateConfig{
		ID: quickstartTemplate,
		Metadata: map[string]any{
			"client_name":                "Service (template " + quickstartTemplate + ")",
			"token_endpoint_auth_method": "client_secret_basic",
			"grant_types":                []any{"client_credentials"},
			"scope":                      "profile",
		},
	})
	srv, err := testserver.New(cfg)
	if err != nil {
		ln.Close()
		return quickstartServer{}, nil, err
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(sctx, ln)
	}()
	stop := func() {
		cancel()
		<-done
		srv.Close()
	}
	eff := srv.Config()
	return quickstartServer{issuer: srv.Issuer(), bootstrap: eff.Clients[0]}, stop, nil
}
