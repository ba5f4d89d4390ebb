package testserver

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// profileEnv is a server running one profile, with helpers that follow its switches.
type profileEnv struct {
	*env
	b Behaviour
}

func startProfile(t *testing.T, name string, switches map[string]any) *profileEnv {
	t.Helper()
	e := start(t, func(c *Config) {
		c.BehaveLike = name
		c.Switches = switches
		c.Clients[0].Scope = "dcr openid" // so that a token without dcr can be had
	})
	return &profileEnv{env: e, b: e.srv.Behaviour()}
}

// token is an initial access token when the server needs one, else "".
func (p *profileEnv) token() string {
	if p.srv.mode != ModeClient {
		return ""
	}
	return p.bootstrapToken("dcr")
}

func (p *profileEnv) reg(md any) resp {
	p.t.Helper()
	return p.jsonReq(http.MethodPost, p.b.RegistrationPath, p.token(), md)
}

func (p *profileEnv) discovery() map[string]any {
	p.t.Helper()
	r := p.jsonReq(http.MethodGet, "/.well-known/openid-configuration", "", nil)
	if r.Status != 200 {
		p.t.Fatalf("discovery: %d", r.Status)
	}
	return r.Body
}

var webClient = map[string]any{"redirect_uris": []string{"https://app.example/cb"}, "client_name": "web"}

func publicLoopback(redirect string) map[string]any {
	return map[string]any{"redirect_uris": []string{redirect}, "token_endpoint_auth_method": "none",
		"grant_types": []string{"authorization_code"}, "response_types": []string{"code"}}
}

func ok2xx(r resp) bool { return r.Status == 200 || r.Status == 201 }

// mustReg registers md and fails unless it worked.
func (p *profileEnv) mustReg(md any) resp {
	p.t.Helper()
	r := p.reg(md)
	if !ok2xx(r) {
		p.t.Fatalf("registration: %d %s", r.Status, r.Body["error_description"])
	}
	return r
}

// authorizeOutcome is "login" (the request was accepted: the login page), "page" (an error
// page: client or redirect refused) or the error code of a redirect.
func (p *profileEnv) authorizeOutcome(v url.Values) string {
	p.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, p.url("/authorize?"+v.Encode()), nil)
	r := p.do(req)
	switch {
	case r.Status == 200 && strings.Contains(r.Raw, `id="login"`):
		return "login"
	case r.Status == http.StatusFound || r.Status == http.StatusSeeOther:
		u, _ := url.Parse(r.Header.Get("Location"))
		return u.Query().Get("error")
	}
	return "page"
}

// want compares an observation with what the profile definition says.
func want[T any](t *testing.T, what string, got, exp T) {
	t.Helper()
	if !reflect.DeepEqual(got, exp) {
		t.Errorf("%s: got %v, the profile says %v", what, got, exp)
	}
}

// switchChecks observe each switch on a running server and compare it with the profile's
// value. TestEverySwitchHasACheck makes a new Behaviour field without a check fail.
var switchChecks = map[string]func(t *testing.T, profile string, b Behaviour){
	"registration": func(t *testing.T, name string, b Behaviour) {
		p := startProfile(t, name, nil)
		r := p.jsonReq(http.MethodPost, b.RegistrationPath, "", webClient)
		want(t, "registration without a token accepted", ok2xx(r), b.Registration == ModeOpen)
	},
	"registration_path": func(t *testing.T, name string, b Behaviour) {
		p := startProfile(t, name, nil)
		p.mustReg(webClient)
		if b.RegistrationPath != "/register" {
			r := p.jsonReq(http.MethodPost, "/register", p.token(), webClient)
			want(t, "POST /register status", r.Status, 404)
		}
	},
	"register_status": func(t *testing.T, name string, b Behaviour) {
		p := startProfile(t, name, nil)
		want(t, "registration status", p.mustReg(webClient).Status, b.RegisterStatus)
	},
	"management": func(t *testing.T, name string, b Behaviour) {
		p := startProfile(t, name, nil)
		r := p.mustReg(webClient)
		_, hasURI := r.Body["registration_client_uri"]
		_, hasRAT := r.Body["registration_access_token"]
		want(t, "registration_client_uri present", hasURI, b.Management)
		want(t, "registration_access_token present", hasRAT, b.Management)
		g := p.jsonReq(http.MethodGet, b.RegistrationPath+"/"+str(r.Body["client_id"]), "x", nil)
		want(t, "client configuration endpoint exists", g.Status != 404, b.Management)
	},
	"rotate_registration_access_token": func(t *testing.T, name string, b Behaviour) {
		if !b.Management {
			return // no registration access token at all: the management check covers it
		}
		p := startProfile(t, name, nil)
		r := p.mustReg(webClient)
		uri, rat := str(r.Body["registration_client_uri"]), str(r.Body["registration_access_token"])
		g := p.jsonReq(http.MethodGet, uri, rat, nil)
		want(t, "GET rotates the token", str(g.Body["registration_access_token"]) != rat, b.RotateRegistrationToken == RotateOnReadAndUpdate)
		rat = str(g.Body["registration_access_token"])
		u := p.jsonReq(http.MethodPut, uri, rat, map[string]any{"client_id": r.Body["client_id"], "redirect_uris": []string{"https://app.example/cb"}})
		want(t, "PUT rotates the token", str(u.Body["registration_access_token"]) != rat, b.RotateRegistrationToken != RotateNever)
	},
	"rotate_client_secret": func(t *testing.T, name string, b Behaviour) {
		if !b.Management {
			return
		}
		p := startProfile(t, name, map[string]any{"get_omits": []string{}})
		r := p.mustReg(webClient)
		uri, rat := str(r.Body["registration_client_uri"]), str(r.Body["registration_access_token"])
		g := p.jsonReq(http.MethodGet, uri, rat, nil)
		_, has := g.Body["client_secret"]
		want(t, "GET returns a new secret", has && g.Body["client_secret"] != r.Body["client_secret"], b.RotateClientSecret == RotateOnReadAndUpdate)
		rat = str(g.Body["registration_access_token"])
		u := p.jsonReq(http.MethodPut, uri, rat, map[string]any{"client_id": r.Body["client_id"], "redirect_uris": []string{"https://app.example/cb"}})
		_, has = u.Body["client_secret"]
		want(t, "PUT returns a new secret", has, b.RotateClientSecret != RotateNever)
	},
	"get_omits": func(t *testing.T, name string, b Behaviour) {
		if !b.Management {
			return
		}
		// With the secret rotated on read, GET would carry it: what is missing was omitted.
		p := startProfile(t, name, map[string]any{"rotate_client_secret": "read-update", "rotate_registration_access_token": "read-update"})
		r := p.mustReg(webClient)
		g := p.jsonReq(http.MethodGet, str(r.Body["registration_client_uri"]), str(r.Body["registration_access_token"]), nil)
		var missing []string
		for _, k := range []string{"client_secret", "registration_access_token", "client_id", "redirect_uris"} {
			if _, ok := g.Body[k]; !ok {
				missing = append(missing, k)
			}
		}
		want(t, "members missing from GET", missing, append([]string(nil), b.GetOmits...))
	},
	"unknown_members": memberCheck("unknown_thing", "unknown_members", false),
	"lang_members":    memberCheck("client_name#ja-Jpan-JP", "lang_members", false),
	"vendor_members":  memberCheck("x_vendor", "vendor_members", true),
	"null_members": func(t *testing.T, name string, b Behaviour) {
		p := startProfile(t, name, nil)
		r := p.mustReg(webClient)
		v, has := r.Body["client_uri"]
		want(t, "unset client_uri shown as null", has && v == nil, b.NullMembers)
	},
	"response_extras": func(t *testing.T, name string, b Behaviour) {
		p := startProfile(t, name, nil)
		r := p.mustReg(webClient)
		got := map[string]any{}
		for k, v := range r.Body {
			if _, std := known[k]; !std {
				got[k] = v
			}
		}
		exp := map[string]any{}
		if b.ResponseExtras != nil {
			j, _ := json.Marshal(b.ResponseExtras)
			json.Unmarshal(j, &exp)
		}
		for k := range exp {
			if _, std := known[k]; std {
				got[k] = r.Body[k]
			}
		}
		want(t, "members beyond RFC 7591 and OpenID Registration", got, exp)
	},
	"discovery_registration_endpoint": func(t *testing.T, name string, b Behaviour) {
		p := startProfile(t, name, nil)
		v, has := p.discovery()["registration_endpoint"]
		want(t, "registration_endpoint in discovery", has, b.DiscoveryRegistrationEndpoint)
		if has {
			want(t, "registration_endpoint", v, any(p.url(b.RegistrationPath)))
		}
	},
	"discovery_hide": func(t *testing.T, name string, b Behaviour) {
		p := startProfile(t, name, nil)
		all := startProfile(t, name, map[string]any{"discovery_hide": []string{}}).discovery()
		got := p.discovery()
		var hidden []string
		for k := range all {
			if _, ok := got[k]; !ok && k != "registration_endpoint" {
				hidden = append(hidden, k)
			}
		}
		slices.Sort(hidden)
		exp := slices.Sorted(slices.Values(b.DiscoveryHide))
		if exp == nil {
			exp = []string(nil)
		}
		want(t, "members hidden from discovery", hidden, exp)
	},
	"issuer_trailing_slash": func(t *testing.T, name string, b Behaviour) {
		p := startProfile(t, name, nil)
		want(t, "issuer ends with /", strings.HasSuffix(str(p.discovery()["issuer"]), "/"), b.IssuerTrailingSlash)
	},
	"loopback_any_port": func(t *testing.T, name string, b Behaviour) {
		p := startProfile(t, name, nil)
		id := str(p.mustReg(publicLoopback("http://127.0.0.1/cb")).Body["client_id"])
		got := p.authorizeOutcome(loginParams(id, "http://127.0.0.1:5555/cb", "openid"))
		want(t, "another loopback port accepted", got == "login", b.LoopbackAnyPort)
		want(t, "the registered URI accepted", p.authorizeOutcome(loginParams(id, "http://127.0.0.1/cb", "openid")), "login")
	},
	"allow_localhost": func(t *testing.T, name string, b Behaviour) {
		p := startProfile(t, name, nil)
		want(t, "localhost redirect URI accepted", ok2xx(p.reg(publicLoopback("http://localhost/cb"))), b.AllowLocalhost)
	},
	"pkce_required": func(t *testing.T, name string, b Behaviour) {
		p := startProfile(t, name, nil)
		id := str(p.mustReg(publicLoopback("http://127.0.0.1/cb")).Body["client_id"])
		v := loginParams(id, "http://127.0.0.1/cb", "openid")
		v.Del("code_challenge")
		v.Del("code_challenge_method")
		want(t, "a public client without PKCE refused", p.authorizeOutcome(v) == "invalid_request", b.PKCERequired)
	},
	"pkce_plain": func(t *testing.T, name string, b Behaviour) {
		p := startProfile(t, name, nil)
		id := str(p.mustReg(publicLoopback("http://127.0.0.1/cb")).Body["client_id"])
		v := loginParams(id, "http://127.0.0.1/cb", "openid")
		v.Set("code_challenge", verifier)
		v.Set("code_challenge_method", "plain")
		want(t, "plain PKCE accepted", p.authorizeOutcome(v) == "login", b.PKCEPlain)
		methods, _ := p.discovery()["code_challenge_methods_supported"].([]any)
		want(t, "plain advertised", slices.Contains(methods, any("plain")), b.PKCEPlain)
	},
	"initial_token_uses": func(t *testing.T, name string, b Behaviour) {
		p := startProfile(t, name, map[string]any{"registration": "client"})
		tok := p.bootstrapToken("dcr")
		n := 0
		for ; n <= int(b.InitialTokenUses); n++ {
			if !ok2xx(p.jsonReq(http.MethodPost, b.RegistrationPath, tok, webClient)) {
				break
			}
		}
		want(t, "registrations per initial access token", Uses(n), b.InitialTokenUses)
	},
	"missing_scope_status": func(t *testing.T, name string, b Behaviour) {
		p := startProfile(t, name, map[string]any{"registration": "client"})
		r := p.jsonReq(http.MethodPost, b.RegistrationPath, p.bootstrapToken("openid"), webClient)
		want(t, "status for a token without dcr", r.Status, b.MissingScopeStatus)
	},
	"cors": func(t *testing.T, name string, b Behaviour) {
		p := startProfile(t, name, nil)
		for _, path := range []string{b.RegistrationPath, "/token"} {
			req, _ := http.NewRequest(http.MethodOptions, p.url(path), nil)
			req.Header.Set("Origin", "http://localhost:6274")
			req.Header.Set("Access-Control-Request-Method", "POST")
			r := p.do(req)
			want(t, path+": preflight allowed", r.Header.Get("Access-Control-Allow-Origin") == "*" && r.Status == 204, b.CORS)
		}
		r := p.reg(webClient)
		want(t, "registration response readable cross-origin", r.Header.Get("Access-Control-Allow-Origin") == "*", b.CORS)
	},
	"auth_methods": func(t *testing.T, name string, b Behaviour) {
		p := startProfile(t, name, nil)
		var accepted []string
		for _, m := range supportedAuthMethods {
			md := map[string]any{"redirect_uris": []string{"https://app.example/cb"}, "token_endpoint_auth_method": m}
			if ok2xx(p.reg(md)) {
				accepted = append(accepted, m)
			}
		}
		want(t, "auth methods accepted", accepted, b.AuthMethods)
		var adv []string
		for _, m := range p.discovery()["token_endpoint_auth_methods_supported"].([]any) {
			adv = append(adv, m.(string))
		}
		want(t, "auth methods advertised", adv, b.AuthMethods)
	},
}

// memberCheck registers a member of a kind and compares keep/strip/reject with the policy.
func memberCheck(k, sw string, vendor bool) func(*testing.T, string, Behaviour) {
	return func(t *testing.T, name string, b Behaviour) {
		p := startProfile(t, name, nil)
		md := map[string]any{"redirect_uris": []string{"https://app.example/cb"}, k: "v"}
		r := p.reg(md)
		got := MemberReject
		if ok2xx(r) {
			got = MemberStrip
			if r.Body[k] == "v" {
				got = MemberKeep
			}
		}
		v, _ := b.Get(sw)
		want(t, sw+" for "+k, got, v.(MemberPolicy))
	}
}

func TestEverySwitchHasACheck(t *testing.T) {
	for _, n := range SwitchNames() {
		if _, ok := switchChecks[n]; !ok {
			t.Errorf("switch %q has no check in switchChecks: add one that observes it on a running server", n)
		}
	}
	if len(switchChecks) != len(SwitchNames()) {
		t.Errorf("switchChecks has %d checks for %d switches", len(switchChecks), len(SwitchNames()))
	}
}

// TestProfiles runs every switch check against every profile: the server does what each
// profile definition says.
func TestProfiles(t *testing.T) {
	for _, p := range Profiles() {
		t.Run(p.Name, func(t *testing.T) {
			for _, n := range SwitchNames() {
				t.Run(n, func(t *testing.T) { switchChecks[n](t, p.Name, p.Behaviour) })
			}
		})
	}
}

// TestProfileSources: every switch a profile moves away from strict names its public source.
func TestProfileSources(t *testing.T) {
	strict := strictBehaviour()
	for _, p := range Profiles() {
		for _, n := range SwitchNames() {
			a, _ := p.Behaviour.Get(n)
			s, _ := strict.Get(n)
			if !reflect.DeepEqual(a, s) && p.Sources[n] == "" {
				t.Errorf("profile %s: switch %s differs from strict but has no source", p.Name, n)
			}
		}
		for n := range p.Sources {
			if !slices.Contains(SwitchNames(), n) {
				t.Errorf("profile %s: source for unknown switch %q", p.Name, n)
			}
		}
	}
}

// TestSwitchesOverBundle: a switch set on its own wins over the profile; the others keep the
// bundle's values; the explicit rotation fields win too; bad names and values are errors.
func TestSwitchesOverBundle(t *testing.T) {
	b, err := resolveBehaviour(Config{BehaveLike: "keycloak", Switches: map[string]any{"cors": true, "register_status": 200},
		RotateClientSecret: RotateOnUpdate})
	if err != nil {
		t.Fatal(err)
	}
	exp, _ := ProfileBehaviour("keycloak")
	exp.CORS, exp.RegisterStatus, exp.RotateClientSecret = true, 200, RotateOnUpdate
	want(t, "behaviour", b, exp)

	for _, c := range []Config{
		{BehaveLike: "auth0"},
		{Switches: map[string]any{"corz": true}},
		{Switches: map[string]any{"unknown_members": "ignore"}},
		{Switches: map[string]any{"register_status": 202}},
		{Switches: map[string]any{"auth_methods": []string{"private_key_jwt"}}},
	} {
		if _, err := resolveBehaviour(c); err == nil {
			t.Errorf("%+v: no error", c.Switches)
		}
	}
}

// TestBehaveLikeYAML: behave_like and behaviour: in the configuration file.
func TestBehaveLikeYAML(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(path, []byte("issuer: http://127.0.0.1:1\nbehave_like: hydra\nbehaviour:\n  discovery_registration_endpoint: true\n  cors: true\n"), 0o600)
	c, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := resolveBehaviour(c)
	if err != nil {
		t.Fatal(err)
	}
	exp, _ := ProfileBehaviour("hydra")
	exp.DiscoveryRegistrationEndpoint, exp.CORS = true, true
	want(t, "behaviour", b, exp)
}
