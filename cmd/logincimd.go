package cmd

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dcrctl/dcrctl/client/cimd"
	"github.com/dcrctl/dcrctl/flows"
)

// loginCIMDHelp is the part of dcrctl login --help about --client-id URL.
const loginCIMDHelp = `With --client-id https://… instead of NAME, it logs in as the client of that Client ID
Metadata Document (dcrctl cimd init writes one) at a server that advertises
client_id_metadata_document_supported: the document is fetched and checked as dcrctl cimd check
does, then a browser login runs as that public client (PKCE, on one of its loopback redirect
URIs, any port). Nothing is registered and nothing is stored; the token is printed.`

// loginArgs is NAME, or nothing with --client-id.
func loginArgs(opts *loginOptions) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if opts.ClientID == "" {
			return oneName(c, args)
		}
		if len(args) > 0 {
			return usageErrorf("--client-id logs in as a Client ID Metadata Document's client, not a stored one: give no NAME (or no --client-id)")
		}
		return nil
	}
}

func loginRunE(g *GlobalOptions, opts *loginOptions) func(*cobra.Command, []string) error {
	named := runNamed(g, &opts.Name, func(ctx context.Context) error { return loginRun(ctx, opts) })
	return func(c *cobra.Command, args []string) error {
		if opts.ClientID == "" {
			return named(c, args)
		}
		ctx, cancel := g.Context(c)
		defer cancel()
		return loginCIMDRun(ctx, opts)
	}
}

// loginCIMDRun logs in as the public client whose client_id is the document URL
// opts.ClientID: the server must say it supports that, and the document must be valid.
func loginCIMDRun(ctx context.Context, opts *loginOptions) error {
	g, id := opts.G, opts.ClientID
	if !cimd.IsClientIDURL(id) {
		return usageErrorf("--client-id %q is not an https URL: login --client-id takes a Client ID Metadata Document's URL; for a stored client run dcrctl login NAME", id)
	}
	if err := opts.check(); err != nil {
		return err
	}
	md, err := g.serverMetadata(ctx)
	if err != nil {
		return err
	}
	if !cimd.Supported(md.Extra) {
		return fmt.Errorf("the server %s does not advertise client_id_metadata_document_supported (draft §6): it would refuse client_id %s; register a client there instead (dcrctl register)", md.Issuer, id)
	}
	res, err := cimd.Fetch(ctx, g.httpClient(), id)
	if err != nil {
		return err
	}
	for _, p := range res.Problems {
		fmt.Fprintln(g.IO.ErrOut, p)
	}
	if err := invalidDocument(id, res.Problems); err != nil {
		return err
	}
	doc := res.Document
	if m := doc.TokenEndpointAuthMethod; m != "" && m != flows.AuthNone {
		return fmt.Errorf("client %s has token_endpoint_auth_method %s: dcrctl logs in only as a public client (none) with a metadata document", id, m)
	}
	redirect, err := flows.PickLoopbackRedirect(doc.RedirectURIs)
	if err != nil {
		return fmt.Errorf("client %s: %w; add one to its document (dcrctl cimd init --redirect-uri http://127.0.0.1/callback)", id, err)
	}
	o := opts.grantOptions
	o.Stored, o.AuthMethod, o.Login, o.RedirectURI = true, flows.AuthNone, true, redirect // public: no secret
	o.Resource = g.Resource                                                               // with --resource, the token is for it (RFC 8707)
	if o.Scopes = scopeList(o.Scopes); len(o.Scopes) == 0 {
		if o.Scopes = strings.Fields(doc.Scope); len(o.Scopes) == 0 {
			o.Scopes = []string{"openid"}
		}
	}
	tok, err := o.token(ctx, g, md.Issuer, md)
	if err != nil {
		return err
	}
	if err := o.checkToken(ctx, g, tok); err != nil {
		return err
	}
	return writeToken(g.IO.Out, g.Output, g.EnvPrefix, tok)
}
