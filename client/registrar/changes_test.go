package registrar_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/dcrctl/dcrctl/client"
	"github.com/dcrctl/dcrctl/client/registrar"
	"github.com/dcrctl/dcrctl/keystore"
	"github.com/dcrctl/dcrctl/testserver"
)

func TestCompare(t *testing.T) {
	raw := func(s string) json.RawMessage { return json.RawMessage(s) }
	sent := client.Metadata{ClientName: "a", Scope: "openid profile", GrantTypes: []string{"client_credentials"},
		Extra: map[string]json.RawMessage{"x_kept": raw(`1`), "x_dropped": raw(`"v"`), "x_null": raw(`null`), "x_nulled": raw(`2`)}}
	got := client.Metadata{ClientName: "a", Scope: "profile openid", GrantTypes: []string{"authorization_code"},
		Extra: map[string]json.RawMessage{"x_kept": raw(`1`), "x_nulled": raw(`null`)}}
	want := []registrar.Change{
		{Member: "grant_types", Kind: registrar.ChangeReplaced, Sent: raw(`["client_credentials"]`), Got: raw(`["authorization_code"]`)},
		{Member: "x_dropped", Kind: registrar.ChangeIgnored, Sent: raw(`"v"`)},
		{Member: "x_nulled", Kind: registrar.ChangeIgnored, Sent: raw(`2`)},
	}
	if ch := registrar.Compare(sent, got); !reflect.DeepEqual(ch, want) {
		t.Fatalf("Compare:\n got %+v\nwant %+v", ch, want)
	}
	if ch := registrar.Compare(sent, sent); ch != nil {
		t.Fatalf("Compare of equal metadata: %+v", ch)
	}
}

// TestRegisterReportsChanges registers a template instance with a scope of its own: the
// template decides the scope, and Result.Changes says so.
func TestRegisterReportsChanges(t *testing.T) {
	e := newEnv(t, testserver.RotateNever)
	r := registrar.New(nil, keystore.NewMemory(), registrar.Options{})
	req := e.request("inst")
	req.Template = e.srv.Config.Templates[0].ID
	req.Metadata = client.Metadata{Scope: "x-not-granted"}
	res, err := r.Register(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	var members []string
	for _, c := range res.Changes {
		members = append(members, c.Member+":"+c.Kind)
	}
	if !reflect.DeepEqual(members, []string{"scope:" + kindOf(res.Registration.Scope)}) {
		t.Fatalf("changes %v (server scope %q)", members, res.Registration.Scope)
	}
}

func kindOf(scope string) string {
	if scope == "" {
		return registrar.ChangeIgnored
	}
	return registrar.ChangeReplaced
}

// TestCheck: a store that cannot take a credential fails Check, before any token is spent.
func TestCheck(t *testing.T) {
	ctx := context.Background()
	ok := registrar.New(nil, keystore.NewMemory(), registrar.Options{})
	if err := ok.Check(ctx, "app"); err != nil {
		t.Fatal(err)
	}
	if list, _ := ok.Store().List(ctx); len(list) != 0 {
		t.Fatalf("Check left %v behind", list)
	}
	bad := registrar.New(nil, &faultyStore{Memory: keystore.NewMemory(), failPut: map[int]bool{1: true}}, registrar.Options{})
	if err := bad.Check(ctx, "app"); !errors.Is(err, errInjected) {
		t.Fatalf("Check with a failing store: %v", err)
	}
	taken := keystore.NewMemory()
	_ = taken.Put(ctx, keystore.Credential{Name: "app", ClientID: "c"})
	var nt *registrar.NameTakenError
	if err := registrar.New(nil, taken, registrar.Options{}).Check(ctx, "app"); !errors.As(err, &nt) {
		t.Fatalf("Check of a taken name: %v", err)
	}
}
