package declare_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/dcrctl/dcrctl/client"
	"github.com/dcrctl/dcrctl/client/declare"
	"github.com/dcrctl/dcrctl/client/registrar"
	"github.com/dcrctl/dcrctl/keystore"
)

const threeFile = `registrations:
  a:
    issuer: $ISSUER
    template: service
  b:
    issuer: $ISSUER
    metadata: {client_name: B, grant_types: [client_credentials], token_endpoint_auth_method: client_secret_basic}
  c:
    issuer: $ISSUER
    template: native-app
`

// TestFailingEntryAmongGood: an entry the server refuses fails with the server's error;
// the entries before and after it are applied, and a second run retries only it.
func TestFailingEntryAmongGood(t *testing.T) {
	e := newEnv(t, "strict", nil)
	ctx := ctxT(t)
	file := e.file(strings.Replace(threeFile, "metadata: {client_name: B,", "metadata: {client_name: B, redirect_uris: [not a uri],", 1))
	p := e.plan(ctx, file, false)
	e.engine.Apply(ctx, p)
	checkOutcomes(t, "apply", p, []outcome{
		{Name: "a", Action: "create", Result: "created"},
		{Name: "b", Action: "create", Result: "failed", Failed: true},
		{Name: "c", Action: "create", Result: "created"}})
	var ce *client.Error
	if !errorsAs(p.Steps[1].Err, &ce) || ce.Code != "invalid_redirect_uri" {
		t.Errorf("b failed with %v, want the server's invalid_redirect_uri", p.Steps[1].Err)
	}
	checkWrites(t, "apply", e, map[string]int{"POST": 3})
	p = e.plan(ctx, e.file(threeFile), false)
	e.engine.Apply(ctx, p)
	checkOutcomes(t, "second apply", p, []outcome{
		{Name: "a", Action: "unchanged", Result: "unchanged"},
		{Name: "b", Action: "create", Result: "created"},
		{Name: "c", Action: "unchanged", Result: "unchanged"}})
	checkWrites(t, "second apply", e, map[string]int{"POST": 1})
}

// TestPlanStoresReadRotation: against a server that rotates the registration access token
// and the client secret on every read (Curity), plan reads and stores the rotation: the
// stored credential works afterwards, the one from before no longer does.
func TestPlanStoresReadRotation(t *testing.T) {
	e := newEnv(t, "curity", nil)
	ctx := ctxT(t)
	file := e.file(threeFile)
	e.engine.Apply(ctx, e.plan(ctx, file, false))
	before, err := e.store.Get(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		p := e.plan(ctx, file, false)
		if p.Changes() != 0 || p.Failed() != 0 {
			t.Fatalf("plan %d: %+v", i, outcomes(p))
		}
	}
	after, err := e.store.Get(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	if after.RegistrationAccessToken == before.RegistrationAccessToken || after.ClientSecret == before.ClientSecret {
		t.Fatal("two plans against a read-rotating server left the stored credential as it was")
	}
	if _, err := e.sdk.Read(ctx, regOf(before)); err == nil {
		t.Error("the registration access token from before the plans still works: the server did not rotate")
	}
	if _, err := e.sdk.Read(ctx, regOf(after)); err != nil {
		t.Errorf("the stored registration access token does not work after the plans: %v", err)
	}
	checkWrites(t, "plans", e, map[string]int{"POST": 3})
}

func regOf(c keystore.Credential) *client.Registration {
	reg, _ := registrar.RegistrationFrom(c)
	return reg
}

// TestServerWithoutManagement: a server without RFC 7592 (the MCP SDK's) lets a client be
// created; unchanged is judged from what it answered then; a change or a prune is planned
// but blocked, and apply fails it saying why, without a write.
func TestServerWithoutManagement(t *testing.T) {
	e := newEnv(t, "mcp-sdk", nil)
	ctx := ctxT(t)
	text := "registrations:\n  m:\n    issuer: $ISSUER/\n    token: {flow: none}\n    metadata:\n      client_name: MCP\n" +
		"      redirect_uris: [http://127.0.0.1:5555/cb]\n      token_endpoint_auth_method: none\n      grant_types: [authorization_code]\n"
	p := e.plan(ctx, e.file(text), false)
	e.engine.Apply(ctx, p)
	checkOutcomes(t, "create", p, []outcome{{Name: "m", Action: "create", Result: "created"}})
	if c, _ := e.store.Get(ctx, "m"); c.RegistrationClientURI != "" || c.ClientID == "" {
		t.Fatalf("stored %v, want a client without a registration_client_uri", c)
	}
	p = e.plan(ctx, e.file(text), false)
	checkOutcomes(t, "plan", p, []outcome{{Name: "m", Action: "unchanged", Result: "none"}})
	p = e.plan(ctx, e.file(strings.Replace(text, "MCP", "MCP 2", 1)), false)
	checkOutcomes(t, "plan of a change", p, []outcome{{Name: "m", Action: "update", Result: "planned", Diff: `client_name:"MCP"→"MCP 2"`, Blocked: true}})
	if !strings.Contains(p.Steps[0].Blocked, "no RFC 7592 management") {
		t.Errorf("blocked: %q", p.Steps[0].Blocked)
	}
	e.engine.Apply(ctx, p)
	checkOutcomes(t, "apply of a change", p, []outcome{{Name: "m", Action: "update", Result: "failed", Diff: `client_name:"MCP"→"MCP 2"`, Blocked: true, Failed: true}})
	p = e.plan(ctx, nil, true)
	if len(p.Steps) != 0 {
		t.Errorf("prune of an empty file: %+v, want nothing (it names no issuer)", outcomes(p))
	}
	other := "registrations:\n  n:\n    issuer: $ISSUER/\n    token: {flow: none}\n    metadata: {client_name: N, redirect_uris: [http://127.0.0.1:5555/cb], token_endpoint_auth_method: none, grant_types: [authorization_code]}\n"
	p = e.plan(ctx, e.file(other), true)
	e.engine.Apply(ctx, p)
	checkOutcomes(t, "prune", p, []outcome{{Name: "n", Action: "create", Result: "created"}, {Name: "m", Action: "delete", Result: "failed", Blocked: true, Failed: true}})
	checkWrites(t, "all", e, map[string]int{"POST": 2})
	if _, err := e.store.Get(ctx, "m"); err != nil {
		t.Errorf("the blocked prune removed the credential: %v", err)
	}
}

// TestExportApplyIsNoop: the file Export writes (YAML and JSON) for credentials made by
// apply and by the registrar directly (a credential registered outside any file) plans as
// unchanged, and applying it sends no write.
func TestExportApplyIsNoop(t *testing.T) {
	for _, profile := range []string{"strict", "oidc-provider"} {
		t.Run(profile, func(t *testing.T) {
			e := newEnv(t, profile, nil)
			ctx := ctxT(t)
			e.engine.Apply(ctx, e.plan(ctx, e.file(lifecycleFile("Billing", true, "      scope: profile\n")), false))
			md, err := e.sdk.Discover(ctx, e.srv.Issuer())
			if err != nil {
				t.Fatal(err)
			}
			tok, _ := e.engine.Token(ctx, declare.Entry{Issuer: e.srv.Issuer()}, md)
			if _, err := e.engine.Registrar.Register(ctx, registrar.RegisterRequest{Name: "outside", Issuer: e.srv.Issuer(),
				Endpoint: md.RegistrationEndpoint, InitialAccessToken: tok, Metadata: client.Metadata{ClientName: "Outside",
					GrantTypes: []string{"client_credentials"}, ResponseTypes: []string{}}}); err != nil {
				t.Fatal(err)
			}
			e.count.registrationWrites()
			for _, format := range []string{"yaml", "json"} {
				f, err := declare.Export(ctx, e.store, e.srv.Issuer())
				if err != nil {
					t.Fatal(err)
				}
				var buf bytes.Buffer
				if err := f.Encode(&buf, format); err != nil {
					t.Fatal(err)
				}
				for _, name := range []string{"svc", "inst", "outside"} {
					c, err := e.store.Get(ctx, name)
					if err != nil {
						t.Fatal(err)
					}
					if c.ClientSecret != "" && strings.Contains(buf.String(), c.ClientSecret) || strings.Contains(buf.String(), c.RegistrationAccessToken) {
						t.Errorf("%s export holds a secret of %s", format, name)
					}
				}
				back, err := declare.Parse("export."+format, buf.Bytes())
				if err != nil {
					t.Fatalf("%s export does not parse: %v\n%s", format, err, buf.String())
				}
				p := e.plan(ctx, back.Entries, true)
				e.engine.Apply(ctx, p)
				if len(p.Steps) != 3 || p.Changes() != 0 {
					t.Errorf("%s: apply of the export: %+v, want 3 unchanged\n%s", format, outcomes(p), buf.String())
				}
			}
			checkWrites(t, "apply of the exports", e, map[string]int{})
		})
	}
}

// TestInterruptedApplyResumes: an apply interrupted in the middle (its context ends while
// the second registration is on its way, which never reaches the server) leaves the first
// entry done and the rest skipped; a second run creates only what is missing, a third
// changes nothing.
func TestInterruptedApplyResumes(t *testing.T) {
	e := newEnv(t, "strict", nil)
	ctx, cancel := context.WithCancel(ctxT(t))
	posts := 0
	e.count.setHook(func(r *http.Request) bool {
		if r.Method != http.MethodPost || strings.HasSuffix(r.URL.Path, "/token") {
			return true
		}
		if posts++; posts == 2 {
			cancel() // the process is killed while the request is on its way
			return false
		}
		return true
	})
	file := e.file(threeFile)
	p := e.plan(ctx, file, false)
	e.engine.Apply(ctx, p)
	checkOutcomes(t, "interrupted", p, []outcome{
		{Name: "a", Action: "create", Result: "created"},
		{Name: "b", Action: "create", Result: "failed", Failed: true},
		{Name: "c", Action: "create", Result: "skipped", Failed: true}})
	e.count.setHook(nil)
	ctx = ctxT(t)
	p = e.plan(ctx, file, false)
	e.engine.Apply(ctx, p)
	checkOutcomes(t, "resumed", p, []outcome{
		{Name: "a", Action: "unchanged", Result: "unchanged"},
		{Name: "b", Action: "create", Result: "created"},
		{Name: "c", Action: "create", Result: "created"}})
	if p = e.plan(ctx, file, false); p.Changes() != 0 {
		t.Errorf("after the resumed run: %+v", outcomes(p))
	}
	if list, _ := e.store.List(ctx); len(list) != 3 {
		t.Errorf("stored %d credentials, want 3", len(list))
	}
}

// TestConcurrentApplies: two applies of one file, each with its own store on one directory
// (as two processes on one machine), at once: the client is registered once, the change is
// sent once, and the other apply finds it done (unchanged), because each step is re-checked
// under the credential's lock.
func TestConcurrentApplies(t *testing.T) {
	e := newEnv(t, "curity", nil)
	dir := t.TempDir()
	engines := make([]*declare.Engine, 2)
	for i := range engines {
		st, err := keystore.Open(keystore.KindFile, keystore.Options{ConfigDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		engines[i] = e.newEngine(st)
	}
	ctx := ctxT(t)
	run := func(text string) [2]*declare.Plan {
		var plans [2]*declare.Plan
		for i, en := range engines { // both plan first: both see the same state
			p, err := en.Plan(ctx, e.file(text), false)
			if err != nil {
				t.Fatal(err)
			}
			plans[i] = p
		}
		var wg sync.WaitGroup
		for i, en := range engines {
			wg.Go(func() { en.Apply(ctx, plans[i]) })
		}
		wg.Wait()
		return plans
	}
	text := "registrations:\n  svc:\n    issuer: $ISSUER\n    metadata: {client_name: One, grant_types: [client_credentials], token_endpoint_auth_method: client_secret_basic}\n"
	for _, step := range []struct{ text, did, method string }{
		{text, "created", "POST"},
		{strings.Replace(text, "One", "Two", 1), "updated", "PUT"},
	} {
		plans := run(step.text)
		results := []string{plans[0].Steps[0].Result, plans[1].Steps[0].Result}
		if !(results[0] == step.did && results[1] == "unchanged" || results[1] == step.did && results[0] == "unchanged") {
			t.Errorf("%s: results %q (%s / %s), want one %s and one unchanged", step.did, results, plans[0].Steps[0].Error, plans[1].Steps[0].Error, step.did)
		}
		checkWrites(t, step.did, e, map[string]int{step.method: 1})
	}
	p, err := engines[0].Plan(ctx, e.file(strings.Replace(text, "One", "Two", 1)), false)
	if err != nil || p.Changes() != 0 || p.Failed() != 0 {
		t.Errorf("plan after the concurrent applies: %+v (%v)", outcomes(p), err)
	}
}

// TestSeveralIssuers: one file covers two servers; prune deletes only credentials of the
// file's issuers, never those of a third server the file does not name.
func TestSeveralIssuers(t *testing.T) {
	a, b, c := newEnv(t, "strict", nil), newEnv(t, "curity", nil), newEnv(t, "strict", nil)
	st := keystore.NewMemory()
	byIssuer := map[string]*env{a.srv.Issuer(): a, b.srv.Issuer(): b, c.srv.Issuer(): c}
	engine := a.newEngine(st)
	engine.Token = func(ctx context.Context, en declare.Entry, md *client.ServerMetadata) (string, error) {
		return byIssuer[en.Issuer].newEngine(st).Token(ctx, en, md)
	}
	ctx := ctxT(t)
	entry := func(name string, e *env) string {
		return "  " + name + ":\n    issuer: " + e.srv.Issuer() + "\n    template: service\n"
	}
	parse := func(text string) []declare.Entry {
		f, err := declare.Parse("f.yaml", []byte("registrations:\n"+text))
		if err != nil {
			t.Fatal(err)
		}
		return f.Entries
	}
	plan := func(text string, prune bool) *declare.Plan {
		p, err := engine.Plan(ctx, parse(text), prune)
		if err != nil {
			t.Fatal(err)
		}
		engine.Apply(ctx, p)
		return p
	}
	p := plan(entry("a1", a)+entry("a2", a)+entry("b1", b)+entry("c1", c), false)
	if p.Failed() != 0 || len(p.Steps) != 4 {
		t.Fatalf("create: %+v", outcomes(p))
	}
	p = plan(entry("a1", a)+entry("b1", b), true)
	checkOutcomes(t, "prune", p, []outcome{
		{Name: "a1", Action: "unchanged", Result: "unchanged"}, {Name: "b1", Action: "unchanged", Result: "unchanged"},
		{Name: "a2", Action: "delete", Result: "deleted"}})
	checkWrites(t, "server a", a, map[string]int{"POST": 2, "DELETE": 1})
	checkWrites(t, "server b", b, map[string]int{"POST": 1})
	checkWrites(t, "server c", c, map[string]int{"POST": 1})
	if _, err := st.Get(ctx, "c1"); err != nil {
		t.Errorf("the credential of the server the file does not name was touched: %v", err)
	}
}

// TestSecretMemberKept: a secret member set outside the file (a vendor webhook secret given
// to the registrar directly) is neither drift nor dropped: an update for another member
// keeps it at the server, and export leaves it out and still applies as a no-op.
func TestSecretMemberKept(t *testing.T) {
	e := newEnv(t, "strict", nil)
	ctx := ctxT(t)
	md, err := e.sdk.Discover(ctx, e.srv.Issuer())
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := e.engine.Token(ctx, declare.Entry{Issuer: e.srv.Issuer()}, md)
	if _, err := e.engine.Registrar.Register(ctx, registrar.RegisterRequest{Name: "hook", Issuer: e.srv.Issuer(),
		Endpoint: md.RegistrationEndpoint, InitialAccessToken: tok, Metadata: client.Metadata{ClientName: "Hook",
			GrantTypes: []string{"client_credentials"}, ResponseTypes: []string{},
			Extra: map[string]json.RawMessage{"x_webhook_secret": json.RawMessage(`"s3cr3t-value"`)}}}); err != nil {
		t.Fatal(err)
	}
	text := "registrations:\n  hook:\n    issuer: $ISSUER\n    metadata: {client_name: Hook, grant_types: [client_credentials], response_types: []}\n"
	checkOutcomes(t, "plan", e.plan(ctx, e.file(text), false), []outcome{{Name: "hook", Action: "unchanged", Result: "none"}})
	p := e.plan(ctx, e.file(strings.Replace(text, "Hook,", "Hook 2,", 1)), false)
	e.engine.Apply(ctx, p)
	checkOutcomes(t, "apply", p, []outcome{{Name: "hook", Action: "update", Result: "updated", Diff: `client_name:"Hook"→"Hook 2"`}})
	c, err := e.store.Get(ctx, "hook")
	if err != nil {
		t.Fatal(err)
	}
	cur, err := e.sdk.Read(ctx, regOf(c))
	if err != nil {
		t.Fatal(err)
	}
	if string(cur.Extra["x_webhook_secret"]) != `"s3cr3t-value"` {
		t.Errorf("after the update the server no longer has the secret member (%d bytes)", len(cur.Extra["x_webhook_secret"]))
	}
	f, err := declare.Export(ctx, e.store, "")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	_ = f.Encode(&buf, "yaml")
	if strings.Contains(buf.String(), "webhook") {
		t.Errorf("export names the secret member:\n%s", buf.String())
	}
	back, err := declare.Parse("x.yaml", buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if p := e.plan(ctx, back.Entries, true); p.Changes() != 0 {
		t.Errorf("plan of the export: %+v", outcomes(p))
	}
}

// TestStoredElsewhere: a stored credential whose issuer differs from the entry's, and one
// whose client was deleted at the server behind dcrctl's back, cannot be planned: each
// fails, saying why, and nothing is written; the other entries are planned as usual.
func TestStoredElsewhere(t *testing.T) {
	a, b := newEnv(t, "strict", nil), newEnv(t, "strict", nil)
	ctx := ctxT(t)
	a.engine.Apply(ctx, a.plan(ctx, a.file(threeFile), false))
	ca, err := a.store.Get(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.srv.Server.DeleteClient(ctx, ca.ClientID); err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(a.file2(threeFile), "  c:\n    issuer: "+a.srv.Issuer(), "  c:\n    issuer: "+b.srv.Issuer(), 1)
	f, err := declare.Parse("f.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	a.count.registrationWrites()
	p := a.plan(ctx, f.Entries, true)
	checkOutcomes(t, "plan", p, []outcome{
		{Name: "a", Action: "unknown", Result: "failed", Failed: true},
		{Name: "b", Action: "unchanged", Result: "none"},
		{Name: "c", Action: "unknown", Result: "failed", Failed: true}})
	var ce *client.Error
	if !errorsAs(p.Steps[0].Err, &ce) || ce.StatusCode != http.StatusUnauthorized {
		t.Errorf("a: %v, want the server's 401", p.Steps[0].Err)
	}
	if want := "the stored credential of that name is a client of " + a.srv.Issuer() + ", not " + b.srv.Issuer(); !strings.Contains(p.Steps[2].Error, want) {
		t.Errorf("c: %q, want %q", p.Steps[2].Error, want)
	}
	a.engine.Apply(ctx, p)
	checkWrites(t, "apply", a, map[string]int{})
	checkWrites(t, "apply", b, map[string]int{})
}

// file2 is file's text with $ISSUER replaced, unparsed.
func (e *env) file2(text string) string { return strings.ReplaceAll(text, "$ISSUER", e.srv.Issuer()) }
