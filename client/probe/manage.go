package probe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/dcrctl/dcrctl/client"
)

// manageChecks are decided from RFC 7592 calls on r1.
var manageChecks = []string{"rfc7592", "rat_rotation_on_read", "rat_rotation_on_update", "secret_rotation_on_read",
	"secret_rotation_on_update", "get_omits_secret", "update_full_replacement", "delete_revokes_tokens"}

// cors decides cors_registration with a preflight of the registration endpoint (an
// OPTIONS without credentials).
func (p *prober) cors(ctx context.Context) {
	const from = "https://dcrctl-probe.invalid"
	x, err := p.send(ctx, p.hc, http.MethodOptions, p.rep.RegistrationEndpoint, http.Header{
		"Origin": {from}, "Access-Control-Request-Method": {"POST"}, "Access-Control-Request-Headers": {"authorization, content-type"}})
	if err != nil {
		p.skip("the preflight failed: "+client.RedactError(err), "cors_registration")
		return
	}
	acao := x.header.Get("Access-Control-Allow-Origin")
	if x.status/100 == 2 && (acao == "*" || acao == from) {
		p.yes("cors_registration", "", fmt.Sprintf("preflight %d, Access-Control-Allow-Origin %s", x.status, acao))
		return
	}
	p.no("cors_registration", "", fmt.Sprintf("preflight %d without Access-Control-Allow-Origin for %s", x.status, from))
	p.advice = append(p.advice, "browser-based clients cannot register here (no CORS on the registration endpoint): register from a backend")
}

// manage reads, updates and deletes r1 (RFC 7592 §2), persisting every rotated credential
// before the next call, as a client must.
func (p *prober) manage(ctx context.Context) {
	t := p.r1
	switch {
	case t.reg.RegistrationAccessToken == "" || t.reg.RegistrationClientURI == "":
		p.no("rfc7592", "none", "the registration response has no registration_access_token and registration_client_uri")
		p.skip("the server offers no RFC 7592 management", manageChecks...)
		p.advice = append(p.advice, "keep the registration response: the server offers no RFC 7592 management, so a change means a new registration")
		return
	case origin(t.reg.RegistrationClientURI) != origin(p.rep.RegistrationEndpoint):
		p.skip(fmt.Sprintf("the registration_client_uri %s is on another origin than the registration endpoint: the probe sends no token there", t.reg.RegistrationClientURI), manageChecks...)
		return
	}
	var works []string
	cur := t.reg
	read, raw, err := p.read(ctx, cur)
	if err != nil {
		p.skip("the read failed: "+failure(err), "rat_rotation_on_read", "secret_rotation_on_read", "get_omits_secret")
	} else {
		works = append(works, "read")
		p.rotation("rat_rotation_on_read", cur.RegistrationAccessToken, raw, "registration_access_token", "read", "registration access token")
		p.omits(raw)
		if _, ok := raw["client_secret"]; ok || cur.ClientSecret == "" {
			p.rotation("secret_rotation_on_read", cur.ClientSecret, raw, "client_secret", "read", "client secret")
		} else {
			p.skip("the read leaves out client_secret: a rotation would not show", "secret_rotation_on_read")
		}
		cur = read
		t.reg = read
	}
	if up := p.update(ctx, cur); up != nil {
		works = append(works, "update")
		cur = up
	}
	if p.delete(ctx, cur) {
		works = append(works, "delete")
	}
	value := strings.Join(works, ",")
	if len(works) == 3 {
		p.yes("rfc7592", value, "read, update and delete work with the registration access token")
	} else {
		p.no("rfc7592", value, "working: "+listOrNone(works))
	}
}

// update replaces r1's metadata with what it was registered with, renamed and without
// contacts; it returns the updated registration, nil when the update failed.
func (p *prober) update(ctx context.Context, cur *client.Registration) *client.Registration {
	t := p.r1
	md := t.sent
	md.ClientName += " (updated)"
	md.Contacts = nil
	cctx, x := capture(ctx)
	up, err := p.c.Update(cctx, cur, md)
	if up != nil {
		t.reg = up
	}
	if err != nil {
		p.skip("the update failed: "+failure(err), "rat_rotation_on_update", "secret_rotation_on_update", "update_full_replacement")
		return nil
	}
	raw := jsonMap(x.body)
	p.rotation("rat_rotation_on_update", cur.RegistrationAccessToken, raw, "registration_access_token", "update", "registration access token")
	p.rotation("secret_rotation_on_update", cur.ClientSecret, raw, "client_secret", "update", "client secret")
	if _, ok := raw["contacts"]; ok && raw["contacts"] != nil {
		// RFC 7592 §2.2: "Omitted fields MUST be treated as null or empty values by the
		// server, indicating the client's request to delete them".
		p.violation("update_full_replacement", "RFC 7592 §2.2", "", "contacts, left out of the update, is still registered")
	} else {
		p.yes("update_full_replacement", "", "contacts, left out of the update, is gone")
	}
	return up
}

// read is client.Read that also returns the response's members.
func (p *prober) read(ctx context.Context, reg *client.Registration) (*client.Registration, map[string]any, error) {
	cctx, x := capture(ctx)
	got, err := p.c.Read(cctx, reg)
	if got != nil {
		p.r1.reg = got
	}
	return got, jsonMap(x.body), err
}

// rotation decides whether the member k of a response differs from the value held.
func (p *prober) rotation(id, held string, raw map[string]any, k, op, what string) {
	v, ok := raw[k].(string)
	switch {
	case held == "" && k == "client_secret":
		p.skip("the client has no secret", id)
	case !ok:
		p.no(id, "", fmt.Sprintf("the %s response has no %s: the one held stays", op, k))
	case v != held:
		p.yes(id, "", fmt.Sprintf("the %s response carries a new %s", op, what))
		p.advice = append(p.advice, fmt.Sprintf("store the rotated %s after every %s (RFC 7592 §2 lets the server rotate it)", what, map[string]string{"read": "GET", "update": "PUT"}[op]))
	default:
		p.no(id, "", fmt.Sprintf("the %s response carries the same %s", op, what))
	}
}

// omits decides get_omits_secret: which members of the registration response a read
// leaves out.
func (p *prober) omits(raw map[string]any) {
	var gone []string
	for _, k := range sortedKeys(p.r1.raw) {
		if _, ok := raw[k]; !ok && p.r1.raw[k] != nil {
			gone = append(gone, k)
		}
	}
	value := strings.Join(gone, ",")
	if slices.Contains(gone, "client_secret") {
		p.yes("get_omits_secret", value, "the read leaves out: "+strings.Join(gone, ", "))
		p.advice = append(p.advice, "keep the client secret from the registration response: a read does not return it")
	} else {
		p.no("get_omits_secret", value, "the read leaves out: "+listOrNone(gone))
	}
}

// delete deletes r1 and checks that its registration access token and client_id stop
// working; it reports whether the delete succeeded.
func (p *prober) delete(ctx context.Context, reg *client.Registration) bool {
	cctx, x := capture(ctx)
	if err := p.c.Delete(cctx, reg); err != nil {
		p.skip("the delete failed: "+failure(err), "delete_revokes_tokens")
		return false
	}
	p.r1.deleted = true
	var broken []string
	detail := fmt.Sprintf("delete answered %d", x.status)
	_, _, err := p.read(ctx, reg)
	var ce *client.Error
	switch {
	case halted(err):
		p.skip("after the delete: "+failure(err), "delete_revokes_tokens")
		return true
	case err == nil:
		broken = append(broken, "a read with the registration access token still works")
	case errors.As(err, &ce) && ce.StatusCode == http.StatusUnauthorized:
		detail += "; a read after it: 401"
	default:
		detail += "; a read after it: " + failure(err)
	}
	if p.md.AuthorizationEndpoint != "" {
		a := p.authz(ctx, reg.ClientID, loopbackV4, "S256", "code")
		if a.kind == "failed" {
			p.skip("after the delete: "+a.String(), "delete_revokes_tokens")
			return true
		}
		if a.kind == "accepted" || a.kind == "error-redirect" || a.kind == "code-redirect" {
			broken = append(broken, "the authorization endpoint still takes the client_id ("+a.String()+")")
		} else {
			detail += "; /authorize with its client_id: " + a.String()
		}
	}
	if len(broken) > 0 {
		// RFC 7592 §2.3: "A successful delete action will invalidate the client_id,
		// client_secret, and registration access token for this client".
		p.violation("delete_revokes_tokens", "RFC 7592 §2.3", "", strings.Join(broken, "; "))
	} else {
		p.yes("delete_revokes_tokens", "", detail)
	}
	if x.status != http.StatusNoContent {
		p.advice = append(p.advice, fmt.Sprintf("accept %d as well as 204 for a successful delete", x.status))
	}
	return true
}

// jsonMap decodes a JSON object; nil for anything else.
func jsonMap(b []byte) map[string]any {
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	return m
}
