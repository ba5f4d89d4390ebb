package cmd

import (
	"context"
	"fmt"
	"net/http"

	"github.com/dcrctl/dcrctl/keystore"
)

// This file is the one home of --resource (MCP-style discovery, RFC 9728): the resource's
// metadata names the authorization server, which then stands for --issuer; a credential
// registered for a resource keeps it, and its tokens are requested for it (RFC 8707).

// fromResource makes the authorization server of --resource the issuer. Among several it
// takes the one --issuer names; it says which on stderr.
func (g *GlobalOptions) fromResource(ctx context.Context) error {
	if g.Resource == "" || g.settings.resourceIssuer != "" {
		return nil
	}
	md, err := g.sdk().DiscoverResource(ctx, g.Resource)
	if err != nil {
		return &resourceLookupError{err}
	}
	want := ""
	if g.settings.IssuerFlag {
		want = g.Issuer
	}
	as, err := md.PickAuthorizationServer(want)
	if err != nil {
		return usageErrorf("%v: give the one to use with --issuer", err)
	}
	g.Issuer, g.settings.resourceIssuer = as, as
	fmt.Fprintf(g.IO.ErrOut, "resource %s: authorization server %s (from its metadata, %s)\n", md.Resource, as, md.URL)
	return nil
}

// resourceLookupError is a failure to read --resource's metadata: the advice for an
// unreachable server then names --resource, not --issuer.
type resourceLookupError struct{ err error }

func (e *resourceLookupError) Error() string { return e.err.Error() }
func (e *resourceLookupError) Unwrap() error { return e.err }

// checkCredential refuses to use a credential at another issuer than its own, or for another
// resource, and notices when its resource's authorization server changed.
func (g *GlobalOptions) checkCredential(ctx context.Context, cred keystore.Credential) error {
	if err := g.checkCredentialNames(cred); err != nil || cred.Resource == "" {
		return err
	}
	md, err := g.sdk().DiscoverResource(ctx, cred.Resource)
	if err != nil {
		return fmt.Errorf("%q is for resource %s, whose metadata cannot be read now: %w", cred.Name, cred.Resource, err)
	}
	if _, err := md.PickAuthorizationServer(cred.Issuer); err != nil {
		return fmt.Errorf("the authorization server of resource %s changed: it now names %v, but %q was registered at %s; register anew: dcrctl register --resource %s --name NEW-NAME … (then dcrctl forget %s)",
			cred.Resource, md.AuthorizationServers, cred.Name, cred.Issuer, cred.Resource, cred.Name)
	}
	return nil
}

// checkCredentialNames refuses a credential of another issuer than --issuer, or of another
// resource than --resource.
func (g *GlobalOptions) checkCredentialNames(cred keystore.Credential) error {
	if g.settings.IssuerFlag && cred.Issuer != "" && g.Issuer != cred.Issuer {
		return usageErrorf("%q was registered at %s, not at --issuer %s: a registration is used only at its own issuer; register at %s anew (dcrctl register --issuer %s …)",
			cred.Name, cred.Issuer, g.Issuer, g.Issuer, g.Issuer)
	}
	if g.Resource != "" && g.Resource != cred.Resource {
		return usageErrorf("%q was registered for resource %q, not --resource %s: register a client for that resource (dcrctl register --resource %s …)",
			cred.Name, cred.Resource, g.Resource, g.Resource)
	}
	return nil
}

// checkAtResource sends one request with the token to the resource (--check): it must
// answer 2xx; a refusal is the resource's protocol error (exit 4 for 401 and 403).
func (g *GlobalOptions) checkAtResource(ctx context.Context, resource, accessToken string) error {
	a, err := g.sdk().CallResource(ctx, resource, accessToken)
	if err != nil {
		return fmt.Errorf("--check: the resource %s did not accept the token: %w", resource, err)
	}
	fmt.Fprintf(g.IO.ErrOut, "the resource %s accepted the token (%d %s)\n", resource, a.Status, http.StatusText(a.Status))
	return nil
}
