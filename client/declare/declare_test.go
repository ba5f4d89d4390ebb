package declare_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/dcrctl/dcrctl/client/declare"
)

// lifecycleFile is a full-metadata client and a template instance that asks for a scope
// the template does not let it have. vendor adds a vendor member.
func lifecycleFile(name string, vendor bool, extra string) string {
	v := ""
	if vendor {
		v = "      x_team: billing\n"
	}
	return `registrations:
  svc:
    issuer: $ISSUER
    metadata:
      client_name: ` + name + `
      grant_types: [client_credentials]
      token_endpoint_auth_method: client_secret_basic
` + v + extra + `
  inst:
    issuer: $ISSUER
    template: native-app
    metadata:
      scope: openid
`
}

func checkOutcomes(t *testing.T, step string, p *declare.Plan, want []outcome) {
	t.Helper()
	if got := outcomes(p); !reflect.DeepEqual(got, want) {
		for _, s := range p.Steps {
			if s.Error != "" {
				t.Logf("%s: %s: %s", step, s.Name, s.Error)
			}
		}
		t.Errorf("%s:\n got %+v\nwant %+v", step, got, want)
	}
}

func checkWrites(t *testing.T, step string, e *env, want map[string]int) {
	t.Helper()
	if got := e.count.registrationWrites(); !reflect.DeepEqual(got, want) {
		t.Errorf("%s: writes at the server %v, want %v", step, got, want)
	}
}

// TestLifecycle, against several behaviour profiles: create → unchanged (no write reaches
// the server) → change a member → update → unchanged → remove a member → update → prune. The
// template instance's scope, which the server replaces, and a vendor member a server strips,
// are reported as not kept, never as a change.
func TestLifecycle(t *testing.T) {
	for _, tc := range []struct {
		profile string
		vendor  bool
		notKept string // svc's members the server does not keep
	}{
		{"strict", true, ""},
		{"curity", true, ""},
		{"oidc-provider", true, "x_team"},
		{"keycloak", false, ""}, // it refuses vendor members outright
		{"hydra", true, ""},     // null members, extra members, no registration_endpoint in discovery
	} {
		t.Run(tc.profile, func(t *testing.T) {
			e := newEnv(t, tc.profile, nil)
			if tc.profile == "hydra" {
				e.endpoints.Registration = e.srv.URL("/oauth2/register")
			}
			ctx := ctxT(t)
			file := e.file(lifecycleFile("Billing", tc.vendor, "      scope: profile\n"))

			p := e.plan(ctx, file, false)
			checkOutcomes(t, "first plan", p, []outcome{
				{Name: "svc", Action: "create", Result: "planned"}, {Name: "inst", Action: "create", Result: "planned"}})
			checkWrites(t, "first plan", e, map[string]int{})
			e.engine.Apply(ctx, p)
			checkOutcomes(t, "first apply", p, []outcome{
				{Name: "svc", Action: "create", Result: "created", NotKept: tc.notKept},
				{Name: "inst", Action: "create", Result: "created", NotKept: "scope"}})
			checkWrites(t, "first apply", e, map[string]int{"POST": 2})

			unchanged := []outcome{{Name: "svc", Action: "unchanged", Result: "none", NotKept: tc.notKept},
				{Name: "inst", Action: "unchanged", Result: "none", NotKept: "scope"}}
			p = e.plan(ctx, file, false)
			checkOutcomes(t, "second plan", p, unchanged)
			e.engine.Apply(ctx, p)
			unchanged[0].Result, unchanged[1].Result = "unchanged", "unchanged"
			checkOutcomes(t, "second apply", p, unchanged)
			checkWrites(t, "second plan and apply", e, map[string]int{})

			file = e.file(lifecycleFile("Billing v2", tc.vendor, "      scope: profile\n"))
			p = e.plan(ctx, file, false)
			checkOutcomes(t, "plan after a change", p, []outcome{
				{Name: "svc", Action: "update", Result: "planned", Diff: `client_name:"Billing"→"Billing v2"`, NotKept: tc.notKept},
				{Name: "inst", Action: "unchanged", Result: "none", NotKept: "scope"}})
			e.engine.Apply(ctx, p)
			if p.Steps[0].Result != "updated" || p.Failed() != 0 {
				t.Fatalf("apply of the change: %+v", outcomes(p))
			}
			checkWrites(t, "apply of the change", e, map[string]int{"PUT": 1})
			p = e.plan(ctx, file, false)
			if p.Changes() != 0 {
				t.Errorf("plan after the update: %+v, want all unchanged", outcomes(p))
			}

			file = e.file(lifecycleFile("Billing v2", tc.vendor, ""))
			p = e.plan(ctx, file, false)
			checkOutcomes(t, "plan after removing scope", p, []outcome{
				{Name: "svc", Action: "update", Result: "planned", Diff: `scope:"profile"→-`, NotKept: tc.notKept},
				{Name: "inst", Action: "unchanged", Result: "none", NotKept: "scope"}})
			e.engine.Apply(ctx, p)
			if p.Steps[0].Result != "updated" {
				t.Fatalf("apply of the removal: %+v", outcomes(p))
			}
			if p = e.plan(ctx, file, false); p.Changes() != 0 {
				t.Errorf("plan after the removal: %+v, want all unchanged", outcomes(p))
			}
			checkWrites(t, "removal", e, map[string]int{"PUT": 1})

			only := e.file(strings.SplitN(lifecycleFile("Billing v2", tc.vendor, ""), "\n  inst:", 2)[0])
			inst, err := e.store.Get(ctx, "inst")
			if err != nil {
				t.Fatal(err)
			}
			p = e.plan(ctx, only, false)
			checkOutcomes(t, "plan without prune", p, []outcome{{Name: "svc", Action: "unchanged", Result: "none", NotKept: tc.notKept}})
			p = e.plan(ctx, only, true)
			checkOutcomes(t, "plan with prune", p, []outcome{
				{Name: "svc", Action: "unchanged", Result: "none", NotKept: tc.notKept},
				{Name: "inst", Action: "delete", Result: "planned"}})
			e.engine.Apply(ctx, p)
			checkOutcomes(t, "apply with prune", p, []outcome{
				{Name: "svc", Action: "unchanged", Result: "unchanged", NotKept: tc.notKept},
				{Name: "inst", Action: "delete", Result: "deleted"}})
			checkWrites(t, "prune", e, map[string]int{"DELETE": 1})
			if list, _ := e.store.List(ctx); len(list) != 1 || list[0].Name != "svc" {
				t.Errorf("stored after prune: %v, want svc only", list)
			}
			if e.srv.Server.DeleteClient(context.Background(), inst.ClientID) == nil {
				t.Errorf("the pruned client %s is still registered at the server", inst.ClientID)
			}
		})
	}
}
