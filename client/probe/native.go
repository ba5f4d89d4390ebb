package probe

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/dcrctl/dcrctl/client"
)

// nativeChecks are decided from the public native client r2.
var nativeChecks = []string{"native_loopback", "private_use_scheme", "software_statements", "redirect_uri_validation",
	"loopback_any_port", "pkce_s256", "pkce_plain", "pkce_required", "iss_parameter"}

// native registers r2, a public native client with every loopback form, a private-use
// scheme and an unsigned software statement; with the initial token of r1 when registration
// is protected, which tells whether that token is reusable.
func (p *prober) native(ctx context.Context, mode, tok string) {
	base := client.Metadata{ClientName: NamePrefix + p.random(4), ApplicationType: "native", TokenEndpointAuthMethod: "none",
		GrantTypes: []string{"authorization_code"}, ResponseTypes: []string{"code"}, RedirectURIs: []string{loopbackV4}}
	out := p.register(ctx, tok, base, nativeOptionals())
	if mode == "protected" {
		switch {
		case out.t != nil:
			p.yes("initial_token_reuse", "", "the initial access token of the first registration registered a second client")
		case out.status == http.StatusUnauthorized || out.status == http.StatusForbidden:
			p.no("initial_token_reuse", "", "a second registration with the same initial access token: "+failure(out.err))
			p.advice = append(p.advice, "get a new initial access token for every registration: one token registers one client here")
			tok2, err := p.opts.InitialToken(ctx, p.md)
			switch {
			case err != nil || tok2 == "":
				p.skip("the initial access token is single-use and getting another failed: "+client.RedactError(err), nativeChecks...)
				return
			case tok2 == tok:
				p.skip("the initial access token is single-use and no second one can be had (give a way to get fresh tokens, such as the client credentials grant)", nativeChecks...)
				return
			}
			out = p.register(ctx, tok2, base, nativeOptionals())
		default:
			p.skip("the second registration failed for another reason: "+failure(out.err), "initial_token_reuse")
		}
	}
	if out.t == nil {
		p.skip("the registration of a public native client failed: "+failure(out.err), nativeChecks...)
		return
	}
	p.r2 = out.t
	p.redirects(out)
}

// redirects decides the checks of r2's registration: which redirect URIs and whether its
// software statement were accepted.
func (p *prober) redirects(out outcome) {
	got := map[string]bool{}
	if list, ok := out.t.raw["redirect_uris"].([]any); ok {
		for _, u := range list {
			if s, ok := u.(string); ok {
				got[s] = true
			}
		}
	}
	var accepted, refused []string
	for _, l := range []struct{ name, uri string }{{"127.0.0.1", loopbackV4}, {"[::1]", loopbackV6}, {"localhost", localhost}} {
		switch {
		case got[l.uri]:
			accepted = append(accepted, l.name)
		case out.refused[l.name] == "undetermined":
			refused = append(refused, l.name+" (refused with others, not told apart)")
		default:
			refused = append(refused, l.name)
		}
	}
	detail := fmt.Sprintf("accepted: %s; refused: %s", listOrNone(accepted), listOrNone(refused))
	if slices.Contains(accepted, "127.0.0.1") && slices.Contains(accepted, "[::1]") {
		p.yes("native_loopback", strings.Join(accepted, ","), detail)
	} else {
		p.no("native_loopback", strings.Join(accepted, ","), detail)
	}
	if !slices.Contains(accepted, "localhost") {
		p.advice = append(p.advice, "register loopback redirect URIs as http://127.0.0.1 or http://[::1], not localhost (RFC 8252 §8.3)")
	}
	switch {
	case got[privateUse]:
		p.yes("private_use_scheme", "", privateUse+" accepted")
	case out.refused["private-use"] == "undetermined":
		p.skip("refused together with other redirect URIs, not told apart", "private_use_scheme")
	default:
		p.no("private_use_scheme", "", privateUse+" refused")
	}
	if out.refused["statement"] == "rejected" {
		p.yes("software_statements", "validated", "an unsigned software statement (alg none) was refused")
	} else {
		p.no("software_statements", "ignored", "an unsigned software statement (alg none) was accepted: statements are not validated")
	}
}

// consistency decides grant_response_consistency from both registrations (RFC 7591 §2.1:
// authorization_code goes with the response type code, implicit with token).
func (p *prober) consistency() {
	var bad []string
	for _, t := range []*tracked{p.r1, p.r2} {
		if t == nil {
			continue
		}
		g, r := stringList(t.raw["grant_types"]), stringList(t.raw["response_types"])
		if g == nil || r == nil {
			continue
		}
		if slices.Contains(g, "authorization_code") != slices.Contains(r, "code") || slices.Contains(g, "implicit") != slices.Contains(r, "token") {
			bad = append(bad, fmt.Sprintf("%s: grant_types %v with response_types %v", t.name, g, r))
		}
	}
	if len(bad) > 0 {
		p.no("grant_response_consistency", "", strings.Join(bad, "; "))
	} else {
		p.yes("grant_response_consistency", "", "authorization_code comes with code in every response")
	}
}

// stringList returns a JSON array of strings; nil if v is not one.
func stringList(v any) []string {
	list, ok := v.([]any)
	if !ok {
		return nil
	}
	out := []string{}
	for _, e := range list {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
