package probe_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/dcrctl/dcrctl/client"
	"github.com/dcrctl/dcrctl/client/probe"
	"github.com/dcrctl/dcrctl/flows"
	"github.com/dcrctl/dcrctl/testserver"
	"github.com/dcrctl/dcrctl/testserver/servertest"
)

// outcome is a check's result and value, what the tables below predict.
type outcome struct {
	Result probe.Result
	Value  string
}

func (o outcome) String() string {
	if o.Value == "" {
		return string(o.Result)
	}
	return fmt.Sprintf("%s [%s]", o.Result, o.Value)
}

// part is what one switch predicts of one check: the result, the value, or both.
type part struct {
	result   probe.Result
	value    string
	hasValue bool
}

func res(r probe.Result) part            { return part{result: r} }
func val(v string) part                  { return part{value: v, hasValue: true} }
func both(r probe.Result, v string) part { return part{result: r, value: v, hasValue: true} }
func yesNo(b bool) part {
	if b {
		return res(probe.Yes)
	}
	return res(probe.No)
}

// mapping says how the probe observes one switch of testserver.Behaviour: the checks that
// see it and, computed from the behaviour, what each shows; or why no check can see it.
type mapping struct {
	checks        []string
	expect        func(b testserver.Behaviour) map[string]part
	notObservable string
}

// r1Sends are the members of the probe's first registration: a switch that adds a member
// the client sent does not add it as an extra.
var r1Sends = []string{"client_name", "application_type", "redirect_uris", "contacts", "dcrctl_probe_unknown", "x_dcrctl_probe", "client_name#de"}

var managementChecks = []string{"rat_rotation_on_read", "rat_rotation_on_update", "secret_rotation_on_read",
	"secret_rotation_on_update", "get_omits_secret", "update_full_replacement", "delete_revokes_tokens"}

func protected(b testserver.Behaviour) bool { return b.Registration != testserver.ModeOpen }

// confidential reports whether the probe's first client, registered without
// token_endpoint_auth_method, gets a secret: the server's default method is not none.
func confidential(b testserver.Behaviour) bool {
	return slices.Contains(b.AuthMethods, "client_secret_basic") || b.AuthMethods[0] != "none"
}

func rotates(r testserver.Rotation, onRead bool) bool {
	return r == testserver.RotateOnReadAndUpdate || !onRead && r == testserver.RotateOnUpdate
}

// memberPolicy is the outcome of a member check; an RFC 7591 §2 unknown member may be
// dropped without harm, the others are lost.
func memberPolicy(p testserver.MemberPolicy, strippedIsFine bool) part {
	switch p {
	case testserver.MemberKeep:
		return both(probe.Yes, "kept")
	case testserver.MemberReject:
		return both(probe.Violation, "rejected")
	}
	if strippedIsFine {
		return both(probe.Yes, "stripped")
	}
	return both(probe.No, "stripped")
}

// oidcRequired are the members OpenID Connect Discovery 1.0 §3 makes REQUIRED (dcrctl serve
// always serves openid-configuration).
var oidcRequired = []string{"jwks_uri", "response_types_supported", "subject_types_supported", "id_token_signing_alg_values_supported"}

// switchMappings is the documented mapping from every behaviour switch (by its YAML name)
// to the probe checks that observe it. TestSwitchMappingIsTotal fails when a switch has no
// entry, so that a new switch comes with its check or with the reason it has none.
//
// What each mapping cannot see is said next to it: client and user registration modes both
// show as protected (the probe's tokens come from one grant); initial_token_uses only as
// single-use or not (a limit of 10 is not counted down).
var switchMappings = map[string]mapping{
	"registration": {checks: []string{"registration_mode", "insufficient_scope", "initial_token_reuse"}, expect: func(b testserver.Behaviour) map[string]part {
		if b.Registration == testserver.ModeOpen {
			return map[string]part{"registration_mode": both(probe.Yes, "open"), "insufficient_scope": res(probe.Skipped), "initial_token_reuse": res(probe.Skipped)}
		}
		return map[string]part{"registration_mode": both(probe.Yes, "protected")}
	}},
	"registration_path": {checks: []string{"registration_endpoint"}, expect: func(b testserver.Behaviour) map[string]part {
		return map[string]part{"registration_endpoint": val(b.RegistrationPath)}
	}},
	"register_status": {checks: []string{"status_code"}, expect: func(b testserver.Behaviour) map[string]part {
		return map[string]part{"status_code": both(map[bool]probe.Result{true: probe.Yes, false: probe.No}[b.RegisterStatus == 201], fmt.Sprint(b.RegisterStatus))}
	}},
	"management": {checks: append([]string{"rfc7592"}, managementChecks...), expect: func(b testserver.Behaviour) map[string]part {
		if !b.Management {
			m := map[string]part{"rfc7592": both(probe.No, "none")}
			for _, id := range managementChecks {
				m[id] = res(probe.Skipped)
			}
			return m
		}
		// With management, the server always replaces on update and revokes on delete.
		return map[string]part{"rfc7592": both(probe.Yes, "read,update,delete"), "update_full_replacement": res(probe.Yes), "delete_revokes_tokens": res(probe.Yes)}
	}},
	"rotate_registration_access_token": {checks: []string{"rat_rotation_on_read", "rat_rotation_on_update"}, expect: func(b testserver.Behaviour) map[string]part {
		if !b.Management {
			return nil
		}
		return map[string]part{"rat_rotation_on_read": yesNo(rotates(b.RotateRegistrationToken, true)), "rat_rotation_on_update": yesNo(rotates(b.RotateRegistrationToken, false))}
	}},
	"rotate_client_secret": {checks: []string{"secret_rotation_on_read", "secret_rotation_on_update"}, expect: func(b testserver.Behaviour) map[string]part {
		if !b.Management {
			return nil
		}
		// The server keeps only a hash of the secret: a read shows it only when it rotates
		// it, so without a rotation (or with get_omits) the probe cannot look.
		if !confidential(b) {
			return map[string]part{"secret_rotation_on_read": res(probe.Skipped), "secret_rotation_on_update": res(probe.Skipped)}
		}
		read := res(probe.Skipped)
		if rotates(b.RotateClientSecret, true) && !slices.Contains(b.GetOmits, "client_secret") {
			read = res(probe.Yes)
		}
		return map[string]part{"secret_rotation_on_read": read, "secret_rotation_on_update": yesNo(rotates(b.RotateClientSecret, false))}
	}},
	"get_omits": {checks: []string{"get_omits_secret"}, expect: func(b testserver.Behaviour) map[string]part {
		if !b.Management {
			return nil
		}
		omitted := slices.Clone(b.GetOmits)
		if !rotates(b.RotateClientSecret, true) && !slices.Contains(omitted, "client_secret") {
			omitted = append(omitted, "client_secret") // shown only when rotated (see above)
		}
		if !confidential(b) {
			omitted = slices.DeleteFunc(omitted, func(k string) bool { return k == "client_secret" }) // it has none
		}
		slices.Sort(omitted)
		return map[string]part{"get_omits_secret": both(yesNo(slices.Contains(omitted, "client_secret")).result, strings.Join(omitted, ","))}
	}},
	"unknown_members": {checks: []string{"unknown_metadata"}, expect: func(b testserver.Behaviour) map[string]part {
		return map[string]part{"unknown_metadata": memberPolicy(b.UnknownMembers, true)}
	}},
	"lang_members": {checks: []string{"lang_tags"}, expect: func(b testserver.Behaviour) map[string]part {
		return map[string]part{"lang_tags": memberPolicy(b.LangMembers, false)}
	}},
	"vendor_members": {checks: []string{"vendor_members"}, expect: func(b testserver.Behaviour) map[string]part {
		return map[string]part{"vendor_members": memberPolicy(b.VendorMembers, false)}
	}},
	"null_members": {checks: []string{"null_members"}, expect: func(b testserver.Behaviour) map[string]part {
		return map[string]part{"null_members": yesNo(b.NullMembers)}
	}},
	"response_extras": {checks: []string{"response_extras"}, expect: func(b testserver.Behaviour) map[string]part {
		var extra []string
		for _, k := range slices.Sorted(maps.Keys(b.ResponseExtras)) {
			if !slices.Contains(r1Sends, k) {
				extra = append(extra, k)
			}
		}
		return map[string]part{"response_extras": both(yesNo(len(extra) > 0).result, strings.Join(extra, ","))}
	}},
	"discovery_registration_endpoint": {checks: []string{"registration_endpoint"}, expect: func(b testserver.Behaviour) map[string]part {
		return map[string]part{"registration_endpoint": yesNo(b.DiscoveryRegistrationEndpoint && b.Registration != testserver.ModeDisabled)}
	}},
	"discovery_hide": {checks: []string{"metadata_members"}, expect: func(b testserver.Behaviour) map[string]part {
		var absent []string
		r := probe.Yes
		for _, k := range probe.ClientMembers() {
			if slices.Contains(b.DiscoveryHide, k) {
				absent = append(absent, k)
				r = probe.No
			}
		}
		for _, k := range absent {
			if slices.Contains(oidcRequired, k) {
				r = probe.Violation
			}
		}
		return map[string]part{"metadata_members": both(r, strings.Join(absent, ","))}
	}},
	"issuer_trailing_slash": {checks: []string{"discovery"}, expect: func(b testserver.Behaviour) map[string]part {
		return map[string]part{"discovery": both(probe.Yes, map[bool]string{true: "trailing-slash", false: "exact"}[b.IssuerTrailingSlash])}
	}},
	"loopback_any_port": {checks: []string{"loopback_any_port"}, expect: func(b testserver.Behaviour) map[string]part {
		return map[string]part{"loopback_any_port": yesNo(b.LoopbackAnyPort)}
	}},
	"allow_localhost": {checks: []string{"native_loopback"}, expect: func(b testserver.Behaviour) map[string]part {
		v := "127.0.0.1,[::1]"
		if b.AllowLocalhost {
			v += ",localhost"
		}
		return map[string]part{"native_loopback": both(probe.Yes, v)}
	}},
	"pkce_required": {checks: []string{"pkce_required"}, expect: func(b testserver.Behaviour) map[string]part {
		return map[string]part{"pkce_required": yesNo(b.PKCERequired)}
	}},
	"pkce_plain": {checks: []string{"pkce_plain"}, expect: func(b testserver.Behaviour) map[string]part {
		return map[string]part{"pkce_plain": yesNo(b.PKCEPlain)}
	}},
	"initial_token_uses": {checks: []string{"initial_token_reuse"}, expect: func(b testserver.Behaviour) map[string]part {
		// Observable as single-use or not: the probe uses a token twice, it does not count
		// a limit of 10 down.
		if !protected(b) {
			return nil
		}
		return map[string]part{"initial_token_reuse": yesNo(b.InitialTokenUses != 1)}
	}},
	"missing_scope_status": {checks: []string{"insufficient_scope"}, expect: func(b testserver.Behaviour) map[string]part {
		if !protected(b) {
			return nil
		}
		return map[string]part{"insufficient_scope": both(yesNo(b.MissingScopeStatus == 403).result, fmt.Sprint(b.MissingScopeStatus))}
	}},
	"cors": {checks: []string{"cors_registration"}, expect: func(b testserver.Behaviour) map[string]part {
		return map[string]part{"cors_registration": yesNo(b.CORS)}
	}},
	"auth_methods": {checks: []string{"defaults_applied"}, expect: func(b testserver.Behaviour) map[string]part {
		if slices.Contains(b.AuthMethods, "client_secret_basic") {
			return map[string]part{"defaults_applied": both(probe.Yes, "")}
		}
		return map[string]part{"defaults_applied": both(probe.No, "token_endpoint_auth_method="+b.AuthMethods[0])}
	}},
}

// fixed are the checks no switch changes: what dcrctl serve always does.
var fixed = map[string]outcome{
	"protected_resource":         {probe.Skipped, ""}, // an issuer, not a resource
	"cimd":                       {probe.No, ""},
	"response_shape":             {probe.Yes, ""},
	"grant_response_consistency": {probe.Yes, ""},
	"private_use_scheme":         {probe.Yes, ""},
	"redirect_uri_validation":    {probe.Yes, ""},
	"pkce_s256":                  {probe.Yes, ""},
	"iss_parameter":              {probe.Yes, ""},
	"software_statements":        {probe.Yes, "validated"},
}

// expected computes the whole expected report of a server with behaviour b.
func expected(t *testing.T, b testserver.Behaviour) map[string]outcome {
	t.Helper()
	want := maps.Clone(fixed)
	from := map[string]string{}
	setR, setV := map[string]string{}, map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(switchMappings)) {
		m := switchMappings[name]
		if m.expect == nil {
			continue
		}
		for id, p := range m.expect(b) {
			if !slices.Contains(m.checks, id) {
				t.Fatalf("mapping of %s predicts %s, which it does not list", name, id)
			}
			o := want[id]
			if p.result != "" {
				if prev, ok := setR[id]; ok && o.Result != p.result {
					t.Fatalf("%s and %s predict different results for %s", prev, name, id)
				}
				o.Result, setR[id] = p.result, name
			}
			if p.hasValue {
				if prev, ok := setV[id]; ok && o.Value != p.value {
					t.Fatalf("%s and %s predict different values for %s", prev, name, id)
				}
				o.Value, setV[id] = p.value, name
			}
			want[id], from[id] = o, name
		}
	}
	if b.Registration == testserver.ModeDisabled {
		// No endpoint is advertised (and none given): nothing about registration can be seen.
		for _, id := range probe.IDs() {
			if _, ok := from[id]; ok && id != "discovery" && id != "metadata_members" {
				want[id] = outcome{probe.Skipped, ""}
			}
		}
		for _, id := range []string{"response_shape", "grant_response_consistency", "private_use_scheme", "redirect_uri_validation", "pkce_s256", "iss_parameter", "software_statements"} {
			want[id] = outcome{probe.Skipped, ""}
		}
		want["registration_endpoint"] = outcome{probe.No, ""}
	}
	return want
}

// outcomes is what a report says, check by check.
func outcomes(rep *probe.Report) map[string]outcome {
	got := map[string]outcome{}
	for _, c := range rep.Checks {
		got[c.ID] = outcome{c.Result, c.Value}
	}
	return got
}

// diff lists the checks where got and want differ, with the report's detail.
func diff(rep *probe.Report, got, want map[string]outcome) string {
	var b strings.Builder
	for _, id := range probe.IDs() {
		if got[id] != want[id] {
			c, _ := rep.Check(id)
			fmt.Fprintf(&b, "\n  %s: got %s, want %s (%s%s)", id, got[id], want[id], c.Detail, c.Skipped)
		}
	}
	return b.String()
}

// tokenSource gets client credentials tokens of the server's bootstrap client with scopes.
func tokenSource(srv *servertest.Server, scopes []string) probe.TokenSource {
	boot := srv.Config.Clients[0]
	return func(ctx context.Context, md *client.ServerMetadata) (string, error) {
		tok, err := flows.ClientCredentials{Issuer: md.Issuer, TokenURL: md.TokenEndpoint, ClientID: boot.ClientID, ClientSecret: boot.ClientSecret,
			Scopes: scopes}.Token(ctx)
		if err != nil {
			return "", err
		}
		return tok.AccessToken, nil
	}
}

// secretCatcher is a Transport that keeps every client_secret and registration access token
// the server sent, to check that none reaches the report.
type secretCatcher struct {
	mu      sync.Mutex
	secrets []string
}

func (s *secretCatcher) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	var m map[string]any
	if err == nil && json.Unmarshal(body, &m) == nil {
		s.mu.Lock()
		for _, k := range []string{"client_secret", "registration_access_token"} {
			if v, ok := m[k].(string); ok && v != "" {
				s.secrets = append(s.secrets, v)
			}
		}
		s.mu.Unlock()
	}
	return resp, err
}

// leaks returns how many of the caught secrets occur in the report in any of its forms.
func (s *secretCatcher) leaks(t *testing.T, rep *probe.Report) int {
	var all bytes.Buffer
	if err := json.NewEncoder(&all).Encode(rep); err != nil {
		t.Fatal(err)
	}
	_ = rep.WriteTable(&all)
	_ = rep.WriteMarkdown(&all)
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.secrets) == 0 {
		t.Fatal("no secret was caught: the check would prove nothing")
	}
	n := 0
	for _, sec := range s.secrets {
		if strings.Contains(all.String(), sec) {
			n++
		}
	}
	return n
}

// probeServer runs the probe against srv as a user would: with the bootstrap client's
// tokens, and with the registration endpoint given when the server does not advertise it.
// No secret the server sent may appear in the report.
func probeServer(t *testing.T, srv *servertest.Server) *probe.Report {
	t.Helper()
	b := srv.Server.Behaviour()
	catcher := &secretCatcher{}
	opts := probe.Options{URL: srv.HTTP.URL, InitialToken: tokenSource(srv, []string{"dcr"}), TokenWithoutDCR: tokenSource(srv, []string{}),
		HTTPClient: &http.Client{Transport: catcher}}
	if !b.DiscoveryRegistrationEndpoint {
		opts.Endpoints.Registration = srv.URL(b.RegistrationPath)
	}
	rep, err := probe.Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if b.Registration != testserver.ModeDisabled {
		if n := catcher.leaks(t, rep); n > 0 {
			t.Errorf("%d secrets the server sent appear in the report", n)
		}
	}
	return rep
}

// checkReport compares the whole report of a server of behaviour b with the prediction.
func checkReport(t *testing.T, rep *probe.Report, b testserver.Behaviour) {
	t.Helper()
	got, want := outcomes(rep), expected(t, b)
	if d := diff(rep, got, want); d != "" {
		t.Errorf("report differs from the behaviour's prediction:%s", d)
	}
	undeleted := 0
	if !b.Management {
		undeleted = len(rep.Registered) // no RFC 7592: nothing can be deleted
	}
	if len(rep.Registered) != 2 || len(rep.Undeleted) != undeleted {
		t.Errorf("registered %v, undeleted %v; want 2 registered, %d undeleted", rep.Registered, rep.Undeleted, undeleted)
	}
	if rep.Requests > probe.DefaultMaxRequests || rep.Requests == 0 {
		t.Errorf("%d requests, want 1..%d", rep.Requests, probe.DefaultMaxRequests)
	}
}

// TestProbeProfiles probes dcrctl serve in every behaviour profile: the report must be what
// the profile's switches predict, check by check.
func TestProbeProfiles(t *testing.T) {
	for _, p := range testserver.Profiles() {
		t.Run(p.Name, func(t *testing.T) {
			srv := servertest.Start(t, func(c *testserver.Config) { c.BehaveLike = p.Name })
			checkReport(t, probeServer(t, srv), srv.Server.Behaviour())
		})
	}
}

// TestSwitchMappingIsTotal fails when a behaviour switch has no mapping (a new switch
// needs a probe check, or the reason none can see it), when a mapping names a check the
// probe does not have, or when a check is predicted by neither a mapping nor fixed.
func TestSwitchMappingIsTotal(t *testing.T) {
	ids := probe.IDs()
	covered := map[string]bool{}
	for k := range fixed {
		covered[k] = true
	}
	for _, name := range testserver.SwitchNames() {
		m, ok := switchMappings[name]
		switch {
		case !ok:
			t.Errorf("switch %s has no probe mapping: add the check that observes it, or notObservable with the reason", name)
		case (len(m.checks) == 0) == (m.notObservable == ""):
			t.Errorf("switch %s: give checks (and expect) or notObservable, not both or neither", name)
		case len(m.checks) > 0 && m.expect == nil:
			t.Errorf("switch %s: checks without expect", name)
		}
		for _, id := range m.checks {
			if !slices.Contains(ids, id) {
				t.Errorf("switch %s maps to %s, which is not a probe check", name, id)
			}
			covered[id] = true
		}
	}
	for name := range switchMappings {
		if !slices.Contains(testserver.SwitchNames(), name) {
			t.Errorf("mapping for %s, which is not a switch", name)
		}
	}
	for _, id := range ids {
		if !covered[id] {
			t.Errorf("check %s is predicted by no switch mapping and is not in fixed", id)
		}
	}
	for _, p := range testserver.Profiles() {
		for _, k := range p.Behaviour.DiscoveryHide {
			if !slices.Contains(probe.ClientMembers(), k) {
				t.Errorf("profile %s hides %s, which metadata_members does not look for", p.Name, k)
			}
		}
	}
}

// TestProbeSwitches probes dcrctl serve with one switch of the strict profile changed at a
// time, to values no profile has: the report must follow the mapping for each.
func TestProbeSwitches(t *testing.T) {
	for _, sw := range []map[string]any{
		{"registration": "open"}, {"registration": "disabled"}, {"registration_path": "/connect/register"},
		{"register_status": 200}, {"management": false},
		{"rotate_registration_access_token": "update"}, {"rotate_client_secret": "update"}, {"rotate_client_secret": "read-update"},
		{"get_omits": []any{"client_secret", "contacts"}},
		{"unknown_members": "keep"}, {"unknown_members": "reject"}, {"lang_members": "strip"}, {"vendor_members": "reject"},
		{"null_members": true}, {"response_extras": map[string]any{"owner": "", "client_name": "x"}},
		{"discovery_registration_endpoint": false}, {"discovery_hide": []any{"code_challenge_methods_supported", "revocation_endpoint"}},
		{"discovery_hide": []any{"subject_types_supported"}}, {"issuer_trailing_slash": true},
		{"loopback_any_port": false}, {"allow_localhost": false}, {"pkce_required": false}, {"pkce_plain": true},
		{"initial_token_uses": "reusable"}, {"missing_scope_status": 401}, {"cors": true},
		{"auth_methods": []any{"none", "client_secret_post"}},
	} {
		t.Run(fmt.Sprint(sw), func(t *testing.T) {
			srv := servertest.Start(t, func(c *testserver.Config) { c.Switches = sw })
			b := srv.Server.Behaviour()
			rep := probeServer(t, srv)
			if b.Registration == testserver.ModeDisabled {
				if d := diff(rep, outcomes(rep), expected(t, b)); d != "" {
					t.Errorf("report differs from the behaviour's prediction:%s", d)
				}
				return
			}
			checkReport(t, rep, b)
		})
	}
}

func endpointsAt(registration string) client.Endpoints {
	return client.Endpoints{Registration: registration}
}

// TestProbeDisabledEndpoint: a registration endpoint given explicitly on a server whose
// registration is disabled answers 404: the mode is disabled, nothing is registered, and
// every check that needs a registration says why it was skipped.
func TestProbeDisabledEndpoint(t *testing.T) {
	srv := servertest.Start(t, func(c *testserver.Config) { c.Registration = testserver.ModeDisabled })
	rep, err := probe.Run(context.Background(), probe.Options{URL: srv.HTTP.URL, Endpoints: endpointsAt(srv.URL("/register")),
		InitialToken: tokenSource(srv, []string{"dcr"})})
	if err != nil {
		t.Fatal(err)
	}
	mode, _ := rep.Check("registration_mode")
	status, _ := rep.Check("status_code")
	ep, _ := rep.Check("registration_endpoint")
	if mode.Result != probe.No || mode.Value != "disabled" || status.Result != probe.Skipped || status.Skipped != "registration is disabled" ||
		ep.Result != probe.No || len(rep.Registered) != 0 {
		t.Errorf("registration_mode %+v, status_code %+v, registration_endpoint %+v, registered %v", mode, status, ep, rep.Registered)
	}
}
