package probe

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// authzChecks are decided from authorization requests.
var authzChecks = []string{"redirect_uri_validation", "loopback_any_port", "pkce_s256", "pkce_plain", "pkce_required", "iss_parameter"}

// answer is how the authorization endpoint answered a request the probe never completes.
type answer struct {
	// kind: "accepted" (a page, or a redirect to a login), "refused" (an error status),
	// "error-redirect" (a redirect to the redirect_uri with error=…), "code-redirect"
	// (straight back with a code), "failed" (no answer).
	kind   string
	status int
	code   string // the error of an error redirect
	iss    string
	hasIss bool
	state  bool // the redirect carried the request's state
	err    error
}

func (a answer) String() string {
	switch a.kind {
	case "error-redirect":
		return fmt.Sprintf("%d redirect to the redirect_uri with error=%s", a.status, a.code)
	case "failed":
		return failure(a.err)
	}
	return fmt.Sprintf("%d (%s)", a.status, a.kind)
}

// pkce is how an authorization request does PKCE: "S256", "plain" or "" (none).
type pkce string

// authz sends one authorization request (RFC 6749 §4.1.1) for clientID, without following
// the answer, and classifies the answer. Nothing in it is secret; no cookie is kept.
func (p *prober) authz(ctx context.Context, clientID, redirectURI string, method pkce, responseType string) answer {
	state := p.random(8)
	q := url.Values{"response_type": {responseType}, "client_id": {clientID}, "redirect_uri": {redirectURI}, "state": {state}}
	if slices.Contains(p.md.ScopesSupported, "openid") {
		q.Set("scope", "openid")
	}
	verifier := p.random(32) // 64 characters of [0-9a-f]: a valid RFC 7636 §4.1 verifier
	switch method {
	case "S256":
		sum := sha256.Sum256([]byte(verifier))
		q.Set("code_challenge", base64.RawURLEncoding.EncodeToString(sum[:]))
		q.Set("code_challenge_method", "S256")
	case "plain":
		q.Set("code_challenge", verifier)
		q.Set("code_challenge_method", "plain")
	}
	sep := "?"
	if strings.Contains(p.md.AuthorizationEndpoint, "?") {
		sep = "&"
	}
	x, err := p.send(ctx, p.nr, http.MethodGet, p.md.AuthorizationEndpoint+sep+q.Encode(), http.Header{"Accept": {"text/html"}})
	if err != nil {
		return answer{kind: "failed", err: err}
	}
	a := answer{status: x.status}
	switch {
	case x.status >= 300 && x.status < 400:
		a.kind = "accepted" // a redirect elsewhere: to a login or interaction page
		loc, err := url.Parse(x.header.Get("Location"))
		ru, _ := url.Parse(redirectURI)
		if err != nil || ru == nil {
			break
		}
		if base, err := url.Parse(p.md.AuthorizationEndpoint); err == nil {
			loc = base.ResolveReference(loc)
		}
		if loc.Scheme == ru.Scheme && loc.Host == ru.Host && loc.Path == ru.Path {
			v := loc.Query()
			a.kind = "code-redirect"
			if v.Has("error") {
				a.kind, a.code = "error-redirect", v.Get("error")
			}
			a.iss, a.hasIss, a.state = v.Get("iss"), v.Has("iss"), v.Get("state") == state
		}
	case x.status >= 200 && x.status < 300:
		a.kind = "accepted"
	default:
		a.kind = "refused"
	}
	return a
}

// authorize runs the authorization requests of the public client r2.
func (p *prober) authorize(ctx context.Context) {
	switch {
	case p.r2 == nil:
		return // native skipped them, saying why
	case p.md.AuthorizationEndpoint == "":
		p.skip("no authorization endpoint (give one explicitly)", authzChecks...)
		return
	}
	id := p.r2.reg.ClientID
	control := p.authz(ctx, id, "http://127.0.0.1/dcrctl-probe-unregistered", "S256", "code")
	switch control.kind {
	case "refused":
		p.yes("redirect_uri_validation", "", "an unregistered redirect_uri: "+control.String())
	case "error-redirect", "code-redirect":
		// RFC 6749 §4.1.2.1: "MUST NOT automatically redirect the user-agent to the invalid
		// redirection URI."
		p.violation("redirect_uri_validation", "RFC 6749 §4.1.2.1", "", "redirected to an unregistered redirect_uri: "+control.String())
	case "accepted":
		p.no("redirect_uri_validation", "", "an unregistered redirect_uri gets the same answer as a registered one: "+control.String())
		p.skip("the server answers an unregistered redirect_uri like a registered one: acceptance cannot be told from the answer", authzChecks...)
		return
	default:
		p.skip(control.String(), authzChecks...)
		return
	}
	base := p.authz(ctx, id, loopbackV4, "S256", "code")
	redirects := []answer{base}
	if base.kind == "failed" {
		p.skip(base.String(), authzChecks...)
		return
	}
	if base.kind != "accepted" {
		p.no("pkce_s256", "", "a request with S256 as registered: "+base.String())
		p.skip("the request as registered, with S256, was not accepted: "+base.String(), "loopback_any_port", "pkce_plain", "pkce_required")
	} else {
		p.yes("pkce_s256", "", "a request with S256: "+base.String())
		redirects = append(redirects, p.variants(ctx, id)...)
	}
	redirects = append(redirects, p.authz(ctx, id, loopbackV4, "S256", "dcrctl_probe_unsupported"))
	p.iss(redirects)
}

// variants sends the authorization requests that differ from the accepted one in one
// respect each: another loopback port, PKCE plain, no PKCE. It returns their answers.
func (p *prober) variants(ctx context.Context, id string) []answer {
	port := p.port()
	anyPort := p.authz(ctx, id, "http://127.0.0.1:"+port+"/callback", "S256", "code")
	switch anyPort.kind {
	case "failed":
		p.skip(anyPort.String(), "loopback_any_port")
	case "accepted", "error-redirect", "code-redirect":
		p.yes("loopback_any_port", "", "registered "+loopbackV4+", asked with port "+port+": "+anyPort.String())
	default:
		p.no("loopback_any_port", "", "registered "+loopbackV4+", asked with port "+port+": "+anyPort.String())
		p.advice = append(p.advice, "this server needs the exact loopback port: register http://127.0.0.1:PORT/… with the port the client listens on, and listen on that port")
	}
	plain := p.authz(ctx, id, loopbackV4, "plain", "code")
	if plain.kind == "failed" {
		p.skip(plain.String(), "pkce_plain")
	} else if plain.kind == "accepted" {
		p.yes("pkce_plain", "", "a request with plain: "+plain.String())
	} else {
		p.no("pkce_plain", "", "a request with plain: "+plain.String())
	}
	none := p.authz(ctx, id, loopbackV4, "", "code")
	if none.kind == "failed" {
		p.skip(none.String(), "pkce_required")
	} else if none.kind == "accepted" {
		p.no("pkce_required", "", "a public client's request without PKCE: "+none.String())
		p.advice = append(p.advice, "send PKCE with S256 on every authorization request: the server does not insist, but RFC 9700 §2.1.1 does")
	} else {
		p.yes("pkce_required", "", "a public client's request without PKCE: "+none.String())
	}
	return []answer{plain, none}
}

// iss decides iss_parameter from the redirects back to the client among answers.
func (p *prober) iss(answers []answer) {
	advertised, _ := p.md.Extra["authorization_response_iss_parameter_supported"]
	adv := string(advertised) == "true"
	for _, a := range answers {
		if a.kind != "error-redirect" && a.kind != "code-redirect" {
			continue
		}
		switch {
		case a.hasIss && a.iss == p.md.Issuer:
			p.yes("iss_parameter", "", fmt.Sprintf("the %s carries iss %q", a, a.iss))
		case a.hasIss:
			// RFC 9207 §2: the iss parameter's value is the issuer identifier of the server.
			p.violation("iss_parameter", "RFC 9207 §2", "", fmt.Sprintf("the %s carries iss %q, not the issuer %q", a, a.iss, p.md.Issuer))
		case adv:
			// RFC 9207 §2: a server supporting it (and advertising so, §3) MUST send iss in
			// every authorization response, error responses included.
			p.violation("iss_parameter", "RFC 9207 §2", "", fmt.Sprintf("authorization_response_iss_parameter_supported is true, but the %s has no iss", a))
		default:
			p.no("iss_parameter", "", fmt.Sprintf("the %s has no iss", a))
			p.advice = append(p.advice, "the server sends no iss parameter (RFC 9207): use a distinct redirect URI for each authorization server (mix-up defence)")
		}
		return
	}
	p.skip("no authorization response came back to the redirect_uri to look at", "iss_parameter")
}

// port returns a random port in the dynamic range (RFC 6335 §6), as a client's loopback
// listener would get.
func (p *prober) port() string {
	b := make([]byte, 2)
	_, _ = io.ReadFull(p.opts.Rand, b)
	return fmt.Sprint(49152 + (int(b[0])<<8|int(b[1]))%16000)
}
