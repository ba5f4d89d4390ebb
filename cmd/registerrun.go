package cmd

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/dcrctl/dcrctl/client"
	"github.com/dcrctl/dcrctl/client/registrar"
	"github.com/dcrctl/dcrctl/keystore"
)

// responseOnlyMembers are members of a client information response (RFC 7591 §3.2.1) that a
// request does not carry: the server issues them.
var responseOnlyMembers = []string{"client_secret", "client_id_issued_at", "client_secret_expires_at",
	"registration_access_token", "registration_client_uri"}

func registerRun(ctx context.Context, opts *registerOptions) error {
	g := opts.G
	g.steps.setOutcome("nothing was registered")
	if err := g.fromResource(ctx); err != nil {
		return err
	}
	issuer, md, err := opts.request()
	if err != nil {
		return err
	}
	st, err := opts.store()
	if err != nil {
		return err
	}
	r := g.registrar(st)
	// Before the initial access token is fetched or used: it may be single-use.
	if err := r.Check(ctx, opts.Name); err != nil {
		return err
	}
	meta, err := g.serverMetadata(ctx)
	if err != nil {
		return err
	}
	if meta.RegistrationEndpoint == "" {
		return fmt.Errorf("%s advertises no registration_endpoint: registration is disabled there, or its discovery leaves the endpoint out (give it with --registration-endpoint URL); dcrctl discover shows what it offers", issuer)
	}
	token, err := opts.Token.get(ctx, g, issuer, meta)
	if err != nil {
		return err
	}
	res, err := r.Register(ctx, registrar.RegisterRequest{Name: opts.Name, Issuer: issuer, Endpoint: meta.RegistrationEndpoint,
		InitialAccessToken: token, Template: opts.Template, Metadata: md, Endpoints: g.endpoints(), Resource: g.Resource})
	if res != nil {
		g.steps.setOutcome(fmt.Sprintf("client %s was registered", res.Registration.ClientID))
	} else if ctx.Err() != nil && g.steps.started(http.MethodPost, meta.RegistrationEndpoint) {
		g.steps.setOutcome("the registration request had been sent, so the server may have created a client that dcrctl could not store: if so, ask its administrator to delete it")
	}
	if res == nil {
		var ce *client.Error
		if token == "" && errors.As(err, &ce) && ce.StatusCode == 401 {
			return &adviceError{err: err, advice: noTokenAdvice}
		}
		return err
	}
	return opts.report(res, st, err)
}

// request checks the flags and builds the metadata to register.
func (opts *registerOptions) request() (string, client.Metadata, error) {
	g := opts.G
	issuer := g.Issuer
	if issuer == "" && g.endpoints().Registration == "" {
		if _, err := g.requireIssuer(); err != nil {
			return "", client.Metadata{}, err
		}
	}
	if err := oneStdinReader(map[string]string{"-f": opts.Edits.File, "--client-secret-file": opts.Token.ClientSecretFile,
		"--token-file": opts.Token.TokenFile}); err != nil {
		return "", client.Metadata{}, err
	}
	if opts.Name != "" && !registrar.ValidName(opts.Name) {
		return "", client.Metadata{}, usageErrorf("--name %q: use letters, digits, '.', '_' and '-' (at most 64), starting with a letter or digit", opts.Name)
	}
	members, err := opts.Edits.apply(g.IO, nil)
	if err != nil {
		return "", client.Metadata{}, err
	}
	for _, k := range responseOnlyMembers {
		if _, ok := members[k]; ok {
			delete(members, k)
			g.IO.warnf("%s is issued by the server, not sent in a registration: ignored", k)
		}
	}
	delete(members, "client_id")
	if err := opts.callbackPort(members); err != nil {
		return "", client.Metadata{}, err
	}
	md, err := toMetadata(members)
	if err != nil {
		return "", md, err
	}
	if opts.Template != "" && md.SoftwareID != "" && md.SoftwareID != opts.Template {
		return "", md, usageErrorf("--template %q and software_id %q differ: give one of them", opts.Template, md.SoftwareID)
	}
	return issuer, md, nil
}

// store returns where the credential goes: nil for --keystore none.
func (opts *registerOptions) store() (keystore.Store, error) {
	g := opts.G
	switch {
	case opts.Store != nil:
		return opts.Store, nil
	case g.Keystore == keystoreNone && !opts.ShowSecrets:
		return nil, usageErrorf("--keystore none stores nothing, so the secrets would be lost: add --show-secrets (and -o json or -o env), or use --keystore os or file")
	case g.Keystore == keystoreNone:
		return nil, nil
	}
	return g.openStore()
}
