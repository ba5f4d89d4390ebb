package probe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"

	"github.com/dcrctl/dcrctl/client"
)

// The redirect URIs the probe registers (RFC 8252 §7.1, §7.3). None is ever listened on:
// the probe reads the server's answer to an authorization request, never follows it.
const (
	loopbackV4 = "http://127.0.0.1/callback"
	loopbackV6 = "http://[::1]/callback"
	localhost  = "http://localhost/callback"
	privateUse = "com.example.dcrctlprobe:/callback"
)

// The members whose treatment the probe asks about.
const (
	unknownMember = "dcrctl_probe_unknown"
	vendorMember  = "x_dcrctl_probe"
	langTag       = "de"
)

// unsignedStatement is a software statement (RFC 7591 §2.3) no server can trust: alg none,
// no signature. A server that validates statements refuses it.
const unsignedStatement = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJpc3MiOiJkY3JjdGwtcHJvYmUiLCJzb2Z0d2FyZV9pZCI6ImRjcmN0bC1wcm9iZSJ9."

// optional is a part of a registration request that the server may refuse: dropped and
// retried when a refusal names it.
type optional struct {
	id      string // unknown, lang, vendor, [::1], localhost, private-use, statement
	kind    string // member, redirect, statement
	mention string // text whose presence in an error description names this part
	short   string // a shorter such text, trusted only when it names one part alone
	add     func(*client.Metadata)
}

func memberOptionals(name string) []optional {
	return []optional{
		{"unknown", "member", unknownMember, "", func(m *client.Metadata) { setExtra(m, unknownMember, `"probe"`) }},
		{"vendor", "member", vendorMember, "", func(m *client.Metadata) { setExtra(m, vendorMember, `"probe"`) }},
		{"lang", "member", "client_name#" + langTag, "", func(m *client.Metadata) {
			if m.Localized == nil {
				m.Localized = map[string]string{}
			}
			m.Localized[client.LocalizedKey("client_name", langTag)] = name
		}},
	}
}

func nativeOptionals() []optional {
	redirect := func(u string) func(*client.Metadata) {
		return func(m *client.Metadata) { m.RedirectURIs = append(m.RedirectURIs, u) }
	}
	return []optional{
		{"[::1]", "redirect", loopbackV6, "::1", redirect(loopbackV6)},
		{"localhost", "redirect", localhost, "localhost", redirect(localhost)},
		{"private-use", "redirect", privateUse, "com.example.dcrctlprobe", redirect(privateUse)},
		{"statement", "statement", "software_statement", "", func(m *client.Metadata) { m.SoftwareStatement = unsignedStatement }},
	}
}

func setExtra(m *client.Metadata, k, v string) {
	if m.Extra == nil {
		m.Extra = map[string]json.RawMessage{}
	}
	m.Extra[k] = json.RawMessage(v)
}

// outcome is the end of a registration with retries.
type outcome struct {
	t       *tracked          // the client registered; nil if none
	status  int               // the status of the last answer
	refused map[string]string // optional id → "rejected" or "undetermined"
	why     map[string]string // optional id → the refusal that dropped it
	err     error             // why nothing was registered
}

// register registers base plus every optional part, dropping the parts a refusal names and
// trying again (at most once per part). Every client registered is tracked for deletion.
func (p *prober) register(ctx context.Context, token string, base client.Metadata, opts []optional) outcome {
	out := outcome{refused: map[string]string{}, why: map[string]string{}}
	active := slices.Clone(opts)
	for range len(opts) + 1 {
		md := base
		md.RedirectURIs = slices.Clone(base.RedirectURIs)
		md.Extra, md.Localized = nil, nil
		for _, o := range active {
			o.add(&md)
		}
		cctx, x := capture(ctx)
		reg, err := p.c.Register(cctx, p.rep.RegistrationEndpoint, token, md)
		out.status = x.status
		if reg != nil && (err == nil || errors.Is(err, client.ErrIncompleteResponse)) {
			var raw map[string]any
			_ = json.Unmarshal(x.body, &raw)
			out.t = &tracked{reg: reg, name: md.ClientName, sent: md, raw: raw, status: x.status}
			p.tracked = append(p.tracked, out.t)
			return out
		}
		out.err = err
		var ce *client.Error
		if !errors.As(err, &ce) || ce.StatusCode != http.StatusBadRequest {
			return out
		}
		drop := refusedParts(ce, active)
		if len(drop) == 0 {
			return out
		}
		for _, o := range drop {
			out.refused[o.id], out.why[o.id] = "rejected", failure(err)
			if len(drop) > 1 {
				out.refused[o.id] = "undetermined"
			}
		}
		active = slices.DeleteFunc(active, func(o optional) bool { return slices.ContainsFunc(drop, func(d optional) bool { return d.id == o.id }) })
	}
	return out
}

// refusedParts returns the active parts a refusal names: those its description mentions in
// full; else the one it names by a short name alone; else, by the error code, all parts of
// the kind it concerns.
func refusedParts(ce *client.Error, active []optional) []optional {
	var named, short []optional
	for _, o := range active {
		if strings.Contains(ce.Description, o.mention) {
			named = append(named, o)
		}
		if o.short != "" && strings.Contains(ce.Description, o.short) {
			short = append(short, o)
		}
	}
	switch {
	case len(named) > 0:
		return named
	case len(short) == 1:
		return short
	}
	kind := map[string]string{"invalid_redirect_uri": "redirect", "invalid_client_metadata": "member",
		"invalid_software_statement": "statement", "unapproved_software_statement": "statement"}[ce.Code]
	var all []optional
	for _, o := range active {
		if o.kind == kind {
			all = append(all, o)
		}
	}
	return all
}

// registration runs the registrations: without a token, with a token lacking dcr, with the
// initial token (the confidential client r1), and again (the public native client r2).
// It reports whether any client was registered.
func (p *prober) registration(ctx context.Context) bool {
	name := NamePrefix + p.random(4)
	base1 := client.Metadata{ClientName: name, ApplicationType: "native", RedirectURIs: []string{loopbackV4},
		Contacts: []string{"dcrctl-probe@example.invalid"}}
	opts1 := memberOptionals(name)
	out := p.register(ctx, "", base1, opts1)
	var modeDetail []string
	mode := ""
	switch {
	case out.t != nil:
		mode = "open"
		modeDetail = append(modeDetail, fmt.Sprintf("no token: %d (registered)", out.status))
		p.skip("open registration: no initial access token is involved", "insufficient_scope", "initial_token_reuse")
	case out.status == http.StatusUnauthorized || out.status == http.StatusForbidden:
		mode = "protected"
		modeDetail = append(modeDetail, "no token: "+failure(out.err))
	case out.status == http.StatusNotFound || out.status == http.StatusMethodNotAllowed:
		p.no("registration_mode", "disabled", "no token: "+failure(out.err))
		p.skip("registration is disabled", registrationChecks...)
		return false
	case out.status == 0:
		p.skip("the first registration got no answer: "+failure(out.err), registrationChecks...)
		return false
	default:
		p.no("registration_mode", "", "a registration without a token failed: "+failure(out.err))
		p.skip("the first registration failed: "+failure(out.err), registrationChecks...)
		return false
	}
	first := ""
	if mode == "protected" {
		out, first = p.protected(ctx, base1, opts1, &modeDetail)
		if out.t == nil {
			p.yes("registration_mode", mode, strings.Join(modeDetail, "; "))
			return false
		}
	}
	p.yes("registration_mode", mode, strings.Join(modeDetail, "; "))
	p.r1 = out.t
	p.members(out)
	p.response(out.t)
	p.native(ctx, mode, first)
	p.consistency()
	return true
}

// protected registers r1 at a protected endpoint: first with a token lacking dcr (when one
// can be had), then with the initial access token, which it returns. The initial token is
// asked for first, so that a way of getting it that cannot work is the first thing reported.
func (p *prober) protected(ctx context.Context, base client.Metadata, opts []optional, detail *[]string) (outcome, string) {
	var tok string
	var err error
	if p.opts.InitialToken != nil {
		tok, err = p.opts.InitialToken(ctx, p.md)
	}
	if out, noDCR := p.withoutDCR(ctx, base, opts, detail); out.t != nil {
		return out, noDCR
	}
	if err != nil || tok == "" {
		*detail = append(*detail, "initial token: "+errText(err))
		p.skip("registration needs an initial access token: "+errText(err), withoutMode...)
		return outcome{}, ""
	}
	out := p.register(ctx, tok, base, opts)
	if out.t == nil {
		*detail = append(*detail, "initial token: "+failure(out.err))
		p.skip("the registration with the initial access token failed: "+failure(out.err), withoutMode...)
		return out, ""
	}
	*detail = append(*detail, fmt.Sprintf("initial token: %d (registered)", out.status))
	return out, tok
}

// withoutDCR registers with a token lacking dcr and decides insufficient_scope; when the
// server registers a client with it anyway, that is r1 and the token is returned.
func (p *prober) withoutDCR(ctx context.Context, base client.Metadata, opts []optional, detail *[]string) (outcome, string) {
	if p.opts.TokenWithoutDCR == nil {
		p.skip("no way to get a token without the dcr scope was given", "insufficient_scope")
		return outcome{}, ""
	}
	tok, err := p.opts.TokenWithoutDCR(ctx, p.md)
	if err != nil || tok == "" {
		p.skip("no token without dcr could be had: "+errText(err), "insufficient_scope")
		return outcome{}, ""
	}
	out := p.register(ctx, tok, base, opts)
	var ce *client.Error
	errors.As(out.err, &ce)
	switch {
	case out.t != nil:
		p.no("insufficient_scope", "accepted", "a token requested without scope dcr registered a client (unless the server granted dcr anyway)")
		*detail = append(*detail, "token without dcr: accepted")
		return out, tok
	case out.status == 0:
		p.skip("the registration with a token without dcr got no answer: "+failure(out.err), "insufficient_scope")
	case out.status == http.StatusForbidden && ce != nil && ce.Code == "insufficient_scope":
		p.yes("insufficient_scope", "403", "token without dcr: "+failure(out.err))
	default:
		p.no("insufficient_scope", fmt.Sprint(out.status), "token without dcr: "+failure(out.err))
		if out.status == http.StatusUnauthorized {
			p.advice = append(p.advice, "a 401 invalid_token from registration may mean the token lacks the dcr scope: this server does not answer 403 insufficient_scope")
		}
	}
	*detail = append(*detail, "token without dcr: "+failure(out.err))
	return outcome{}, ""
}

// members decides the member checks from r1's registration.
func (p *prober) members(out outcome) {
	for _, m := range []struct{ id, check, key string }{
		{"unknown", "unknown_metadata", unknownMember},
		{"lang", "lang_tags", client.LocalizedKey("client_name", langTag)},
		{"vendor", "vendor_members", vendorMember},
	} {
		switch out.refused[m.id] {
		case "rejected":
			// RFC 7591 §2: "The authorization server MUST ignore any client metadata sent by
			// the client that it does not understand".
			p.violation(m.check, "RFC 7591 §2", "rejected", fmt.Sprintf("a registration with %s was refused: %s", m.key, out.why[m.id]))
			p.advice = append(p.advice, fmt.Sprintf("send no member this server does not know (it refuses %s with 400)", m.key))
			continue
		case "undetermined":
			p.skip("the server refused a registration with several such members without naming which", m.check)
			continue
		}
		if _, ok := out.t.raw[m.key]; ok {
			p.yes(m.check, "kept", m.key+" is echoed in the response")
		} else if m.id == "unknown" {
			p.yes(m.check, "stripped", m.key+" is ignored (not in the response)")
		} else {
			p.no(m.check, "stripped", m.key+" was accepted and dropped silently")
			p.advice = append(p.advice, fmt.Sprintf("do not rely on %s round-tripping: the server drops it silently", m.key))
		}
	}
}

// serverMembers are the members of a client information response that the server makes.
var serverMembers = []string{"client_id", "client_secret", "client_id_issued_at", "client_secret_expires_at",
	"registration_access_token", "registration_client_uri", "grant_types", "response_types", "token_endpoint_auth_method"}

// response decides the checks of the shape of r1's registration response.
func (p *prober) response(t *tracked) {
	if t.status == http.StatusCreated {
		p.yes("status_code", "201", "201 Created")
	} else {
		p.no("status_code", fmt.Sprint(t.status), fmt.Sprintf("%d, not 201 Created", t.status))
		p.advice = append(p.advice, fmt.Sprintf("accept %d as well as 201 Created for a successful registration", t.status))
	}
	raw := t.raw
	has := func(k string) bool { v, ok := raw[k]; return ok && v != nil }
	var broken []string
	rfc := ""
	if id, _ := raw["client_id"].(string); id == "" {
		broken, rfc = append(broken, "client_id is missing"), "RFC 7591 §3.2.1"
	}
	if has("client_secret") && !has("client_secret_expires_at") {
		broken, rfc = append(broken, "client_secret without client_secret_expires_at"), "RFC 7591 §3.2.1"
	}
	if has("registration_access_token") != has("registration_client_uri") {
		broken = append(broken, "registration_access_token and registration_client_uri not both present")
		if rfc == "" {
			rfc = "RFC 7592 §3"
		}
	}
	if len(broken) > 0 {
		p.violation("response_shape", rfc, "", strings.Join(broken, "; "))
	} else {
		p.yes("response_shape", "", "client_id present; client_secret_expires_at with the secret; registration_access_token with registration_client_uri")
	}
	sent := sentMembers(t.sent)
	var nulls, extras []string
	for _, k := range sortedKeys(raw) {
		switch {
		case raw[k] == nil:
			nulls = append(nulls, k)
		case !sent[k] && !slices.Contains(serverMembers, k):
			extras = append(extras, k)
		}
	}
	if len(nulls) > 0 {
		p.yes("null_members", "", "null: "+strings.Join(nulls, ", "))
		p.advice = append(p.advice, "treat a member whose value is null as absent: the server sends null for members not set")
	} else {
		p.no("null_members", "", "no member is null")
	}
	if len(extras) > 0 {
		p.yes("response_extras", strings.Join(extras, ","), "added: "+strings.Join(extras, ", "))
		p.advice = append(p.advice, "ignore, keep and send back unchanged the members the server adds ("+strings.Join(extras, ", ")+")")
	} else {
		p.no("response_extras", "", "the response adds no member the client did not send")
	}
	p.defaults(raw)
}

// sentMembers are the member names of a request.
func sentMembers(md client.Metadata) map[string]bool {
	b, _ := json.Marshal(md)
	var m map[string]json.RawMessage
	_ = json.Unmarshal(b, &m)
	out := map[string]bool{}
	for k := range m {
		out[k] = true
	}
	return out
}

// defaults decides defaults_applied: r1 sent no grant_types, response_types or
// token_endpoint_auth_method.
func (p *prober) defaults(raw map[string]any) {
	var differ []string
	for _, d := range []struct {
		k    string
		want any
	}{
		{"grant_types", []any{"authorization_code"}}, {"response_types", []any{"code"}},
		{"token_endpoint_auth_method", "client_secret_basic"},
	} {
		got, ok := raw[d.k]
		switch {
		case !ok || got == nil:
			differ = append(differ, d.k+"=(absent)")
		case !reflect.DeepEqual(got, d.want):
			b, _ := json.Marshal(got)
			differ = append(differ, d.k+"="+strings.Trim(string(b), `"`))
		}
	}
	if len(differ) == 0 {
		p.yes("defaults_applied", "", "grant_types [authorization_code], response_types [code], token_endpoint_auth_method client_secret_basic")
		return
	}
	p.no("defaults_applied", strings.Join(differ, ","), "other than RFC 7591 §2's defaults: "+strings.Join(differ, ", "))
	p.advice = append(p.advice, "always send grant_types, response_types and token_endpoint_auth_method: the server's defaults differ from RFC 7591 §2's ("+strings.Join(differ, ", ")+")")
}

// withoutMode are the registration checks but registration_mode, which is decided even
// when no client can be registered.
var withoutMode = slices.DeleteFunc(slices.Clone(registrationChecks), func(id string) bool { return id == "registration_mode" })

// errText is the redacted text of err, or "none was given" for nil.
func errText(err error) string {
	if err == nil {
		return "none was given"
	}
	return client.RedactError(err)
}
