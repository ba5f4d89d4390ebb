package registrar_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/dcrctl/dcrctl/client"
	"github.com/dcrctl/dcrctl/client/registrar"
	"github.com/dcrctl/dcrctl/keystore"
	"github.com/dcrctl/dcrctl/testserver"
)

// TestLastRequestKept: Register and Update store, with the credential, what they sent and
// what the server did not take (a template instance ignores its scope); a Read that rotates
// the credential keeps that record.
func TestLastRequestKept(t *testing.T) {
	e := newEnv(t, testserver.RotateOnReadAndUpdate)
	ctx := context.Background()
	st := keystore.NewMemory()
	r := registrar.New(e.sdk, st, registrar.Options{RecoveryDir: t.TempDir()})
	req := e.request("inst")
	req.Template, req.Metadata = testserver.DefaultTemplate, client.Metadata{Scope: "openid"}
	if _, err := r.Register(ctx, req); err != nil {
		t.Fatal(err)
	}
	want := registrar.LastRequest{
		Metadata: json.RawMessage(`{"scope":"openid","software_id":"native-app"}`),
		Changes: []registrar.Change{{Member: "scope", Kind: registrar.ChangeReplaced,
			Sent: json.RawMessage(`"openid"`), Got: json.RawMessage(`"openid profile email offline_access"`)}},
	}
	check := func(step string, want registrar.LastRequest) {
		t.Helper()
		c, err := st.Get(ctx, "inst")
		if err != nil {
			t.Fatal(err)
		}
		got, ok := registrar.LastRequestOf(c)
		if !ok || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: LastRequest = %s (%v), want %+v", step, c.LastRequest, ok, want)
		}
	}
	check("register", want)
	if _, err := r.Read(ctx, "inst"); err != nil {
		t.Fatal(err)
	}
	check("read", want)
	if _, err := r.Update(ctx, "inst", func(md client.Metadata) (client.Metadata, error) {
		return client.Metadata{SoftwareID: md.SoftwareID}, nil
	}); err != nil {
		t.Fatal(err)
	}
	check("update", registrar.LastRequest{Metadata: json.RawMessage(`{"software_id":"native-app"}`)})
}

// TestLastRequestRedactsSecrets: a secret member sent in a registration (a vendor webhook
// secret) is kept in the record only as client.Redacted: the record goes to the index.
func TestLastRequestRedactsSecrets(t *testing.T) {
	e := newEnv(t, testserver.RotateNever)
	ctx := context.Background()
	st := keystore.NewMemory()
	r := registrar.New(e.sdk, st, registrar.Options{RecoveryDir: t.TempDir()})
	req := e.request("hook")
	req.Metadata.Extra = map[string]json.RawMessage{"x_webhook_secret": json.RawMessage(`"s3cr3t-value"`)}
	if _, err := r.Register(ctx, req); err != nil {
		t.Fatal(err)
	}
	list, err := st.List(ctx) // the index's view
	if err != nil || len(list) != 1 {
		t.Fatalf("list: %v %v", list, err)
	}
	got, ok := registrar.LastRequestOf(list[0])
	want := `{"grant_types":["client_credentials"],"response_types":[],"client_name":"lifecycle","x_webhook_secret":"[REDACTED]"}`
	if !ok || string(got.Metadata) != want || len(got.Changes) != 0 {
		t.Errorf("LastRequest = %s, want metadata %s and no changes", list[0].LastRequest, want)
	}
}
