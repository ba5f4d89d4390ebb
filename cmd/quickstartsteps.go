package cmd

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/dcrctl/dcrctl/client"
	"github.com/dcrctl/dcrctl/client/registrar"
	"github.com/dcrctl/dcrctl/flows"
	"github.com/dcrctl/dcrctl/keystore"
)

// quickstart is the state the steps of dcrctl quickstart pass on.
type quickstart struct {
	g    *GlobalOptions
	keep bool
	n    *narrator
	tmp  string

	srv       quickstartServer
	stopSrv   func()
	meta      *client.ServerMetadata
	initial   string
	r         *registrar.Registrar
	where     string
	reg       *client.Registration // as registered
	name      string
	cur       *client.Registration // as read back
	forgotten bool
}

// stop forgets a credential left behind by a failed step and stops the server.
func (q *quickstart) stop() {
	if q.r != nil && q.name != "" && !q.keep && !q.forgotten {
		_ = q.r.Store().Delete(context.Background(), q.name)
	}
	if q.stopSrv != nil {
		q.stopSrv()
	}
}

// 1. The embedded server.
func (q *quickstart) serve(ctx context.Context) error {
	srv, stop, err := startQuickstartServer(ctx, filepath.Join(q.tmp, "server.db"))
	if err != nil {
		return q.n.step("serve", err, "")
	}
	q.srv, q.stopSrv = srv, stop
	q.n.result.Issuer = srv.issuer
	return q.n.step("serve", nil, "started an authorization server at %s (temporary storage; rotates credentials on every RFC 7592 read)", srv.issuer)
}

// 2. The initial access token.
func (q *quickstart) initialToken(ctx context.Context) error {
	meta, err := q.g.sdk().Discover(ctx, q.srv.issuer)
	if err != nil {
		return q.n.step("initial token", err, "")
	}
	q.meta = meta
	boot := q.srv.bootstrap
	tok, err := flows.ClientCredentials{TokenURL: meta.TokenEndpoint, ClientID: boot.ClientID, ClientSecret: boot.ClientSecret,
		AuthMethod: boot.TokenEndpointAuthMethod, Scopes: []string{"dcr"}, HTTPClient: q.g.httpClient()}.Token(ctx)
	if err != nil {
		return q.n.step("initial token", err, "")
	}
	q.initial = tok.AccessToken
	return q.n.step("initial token", nil, "got an initial access token with scope %q (client credentials grant of %q)", tok.Scope, boot.ClientID)
}

// 3 and 4. Register from the template and store it: one registrar call.
func (q *quickstart) register(ctx context.Context) error {
	st, err := q.openStore()
	if err != nil {
		return q.n.step("store", err, "")
	}
	q.r = registrar.New(q.g.sdk(), st, registrar.Options{RecoveryDir: filepath.Join(q.tmp, "recovery")})
	res, err := q.r.Register(ctx, registrar.RegisterRequest{Issuer: q.srv.issuer, Endpoint: q.meta.RegistrationEndpoint,
		InitialAccessToken: q.initial, Template: quickstartTemplate, NameBase: "quickstart"})
	if res == nil {
		return q.n.step("register", err, "")
	}
	q.n.step("register", nil, "registered client %s, an instance of template %q (RFC 7591), with a client secret and a registration access token", res.Registration.ClientID, quickstartTemplate)
	if err != nil {
		return q.n.step("store", withAdvice(err), "")
	}
	q.reg, q.name = res.Registration, res.Name()
	return q.n.step("store", nil, "stored it as %q in %s", q.name, q.where)
}

// openStore opens the keystore named by --keystore, or a temporary file keystore.
func (q *quickstart) openStore() (keystore.Store, error) {
	if q.g.settings.KeystoreExplicit {
		q.where = "the " + q.g.Keystore + " keystore"
		return q.g.openStore()
	}
	dir := filepath.Join(q.tmp, "config")
	q.where = "a file keystore in " + dir + " (removed at the end)"
	return keystore.Open(keystore.KindFile, keystore.Options{ConfigDir: dir})
}

// 5. Read it back through RFC 7592; the registrar stores the rotation.
func (q *quickstart) read(ctx context.Context) error {
	res, err := q.r.Read(ctx, q.name)
	if err != nil {
		return q.n.step("read", withAdvice(err), "")
	}
	cur := res.Registration
	if cur.ClientID != q.reg.ClientID {
		return q.n.step("read", fmt.Errorf("the server returned client %s for %s", cur.ClientID, q.reg.ClientID), "")
	}
	var rotated []string
	if cur.RegistrationAccessToken != q.reg.RegistrationAccessToken {
		rotated = append(rotated, "registration access token")
	}
	if cur.ClientSecret != q.reg.ClientSecret {
		rotated = append(rotated, "client secret")
	}
	what := "nothing rotated"
	if len(rotated) > 0 {
		what = "the server rotated the " + strings.Join(rotated, " and the ") + "; the new ones are stored"
	}
	q.cur = cur
	return q.n.step("read", nil, "read it back through RFC 7592 (%q, %s): %s", cur.ClientName, strings.Join(cur.GrantTypes, ", "), what)
}

// 6. A token as the new instance, with what the store now holds.
func (q *quickstart) token(ctx context.Context) error {
	stored, reg, err := q.r.Load(ctx, q.name)
	if err != nil {
		return q.n.step("token", err, "")
	}
	tok, err := flows.ClientCredentials{TokenURL: q.meta.TokenEndpoint, ClientID: stored.ClientID, ClientSecret: stored.ClientSecret,
		AuthMethod: reg.TokenEndpointAuthMethod, Scopes: strings.Fields(reg.Scope), HTTPClient: q.g.httpClient()}.Token(ctx)
	if err != nil {
		return q.n.step("token", err, "")
	}
	life := "no expiry given"
	if tok.ExpiresIn > 0 {
		life = "expires in " + (time.Duration(tok.ExpiresIn) * time.Second).String()
	}
	return q.n.step("token", nil, "got an access token as client %s with its stored secret (client credentials, scope %q, %s)", stored.ClientID, tok.Scope, life)
}

// 7. Keep it, or delete the registration and forget it.
func (q *quickstart) finish(ctx context.Context) error {
	if q.keep {
		return q.n.step("keep", nil, "kept %q in %s; its server at %s stops when quickstart exits, so the credential works nowhere: dcrctl forget %s removes it (for a server that stays up: dcrctl serve, then dcrctl register)", q.name, q.where, q.srv.issuer, q.name)
	}
	if _, err := q.r.Delete(ctx, q.name); err != nil {
		return q.n.step("delete", withAdvice(err), "")
	}
	q.forgotten = true
	return q.n.step("delete", nil, "deleted the registration (RFC 7592) and forgot %q", q.name)
}
