package registrar_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/dcrctl/dcrctl/client"
	"github.com/dcrctl/dcrctl/client/registrar"
	"github.com/dcrctl/dcrctl/keystore"
	"github.com/dcrctl/dcrctl/testserver"
)

// TestRegisterNothingLost injects a store failure after the server registered the client,
// with and without a working rollback and recovery directory: the registration is either
// stored, or rolled back at the server, or in a recovery file, or — when all three fail —
// returned to the caller; it is never lost.
func TestRegisterNothingLost(t *testing.T) {
	tests := []struct {
		name           string
		failPut        bool
		failDelete     bool
		badRecoveryDir bool
		want           string // where the credential is: store, rolled-back, recovery, result
	}{
		{"store works", false, false, false, "store"},
		{"store fails, rollback works", true, false, false, "rolled-back"},
		{"store and rollback fail", true, true, false, "recovery"},
		{"store, rollback and recovery file fail", true, true, true, "result"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, testserver.RotateNever)
			st := &faultyStore{Memory: keystore.NewMemory(), failPut: map[int]bool{1: tc.failPut}}
			sdk := &client.Client{}
			if tc.failDelete {
				sdk.HTTPClient = &http.Client{Transport: failingDeletes{}}
			}
			rec := filepath.Join(t.TempDir(), "recovery")
			if tc.badRecoveryDir {
				if err := os.WriteFile(rec, nil, 0o600); err != nil { // a file where the directory should be
					t.Fatal(err)
				}
			}
			r := registrar.New(sdk, st, registrar.Options{RecoveryDir: rec})
			res, err := r.Register(context.Background(), e.request("app"))
			if res == nil {
				t.Fatalf("Register returned no result: %v", err)
			}
			var se *registrar.StoreError
			if tc.failPut != errors.As(err, &se) {
				t.Fatalf("err = %v, want a StoreError: %v", err, tc.failPut)
			}
			got := "store"
			switch {
			case se == nil:
			case se.RolledBack:
				got = "rolled-back"
			case se.RecoveryFile != "":
				got = "recovery"
			default:
				got = "result"
			}
			if got != tc.want {
				t.Fatalf("outcome %s, want %s (err: %v)", got, tc.want, err)
			}
			live := e.works(t, res.Credential)
			switch got {
			case "store":
				stored, err := st.Get(context.Background(), "app")
				if err != nil || !e.works(t, stored) {
					t.Fatalf("the stored credential does not work (%v)", err)
				}
			case "rolled-back":
				if live {
					t.Fatal("the registration was reported rolled back but still works at the server")
				}
				if files := recoveryFiles(t, rec); len(files) != 0 {
					t.Fatalf("a rolled-back registration left %d recovery files", len(files))
				}
			case "recovery":
				files := recoveryFiles(t, rec)
				if len(files) != 1 || !e.works(t, files[0]) {
					t.Fatalf("recovery files %v: want one working credential", files)
				}
			case "result":
				if !live {
					t.Fatal("the only copy, the returned result, does not work")
				}
			}
		})
	}
}

// TestManageNothingLost injects a store failure at every Put of a read and an update against
// a server that rotates the registration access token and the secret on every read and
// update (Curity's behaviour): after each, exactly one working credential exists — in the
// store or in a recovery file — and importing the recovery file makes the store whole again.
func TestManageNothingLost(t *testing.T) {
	update := func(r *registrar.Registrar) (*registrar.Result, error) {
		return r.Update(context.Background(), "app", func(md client.Metadata) (client.Metadata, error) {
			md.ClientName = "renamed"
			return md, nil
		})
	}
	read := func(r *registrar.Registrar) (*registrar.Result, error) { return r.Read(context.Background(), "app") }
	tests := []struct {
		name    string
		op      func(*registrar.Registrar) (*registrar.Result, error)
		failPut int // 0: none; 1: the Put after the read; 2: the Put after the update
		want    string
	}{
		{"read, store works", read, 0, "store"},
		{"read, store fails", read, 1, "recovery"},
		{"update, store works", update, 0, "store"},
		{"update, store fails after its read", update, 1, "recovery"},
		{"update, store fails after the update", update, 2, "recovery"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, testserver.RotateOnReadAndUpdate)
			ctx := context.Background()
			st := &faultyStore{Memory: keystore.NewMemory()}
			rec := filepath.Join(t.TempDir(), "recovery")
			r := registrar.New(nil, st, registrar.Options{RecoveryDir: rec})
			if _, err := r.Register(ctx, e.request("app")); err != nil {
				t.Fatal(err)
			}
			st.mu.Lock()
			st.puts, st.failPut = 0, map[int]bool{tc.failPut: true}
			st.mu.Unlock()

			_, err := tc.op(r)
			var se *registrar.StoreError
			if (tc.failPut != 0) != errors.As(err, &se) {
				t.Fatalf("err = %v", err)
			}
			where := e.survivors(t, st, "app", rec)
			if !reflect.DeepEqual(where, []string{tc.want}) {
				t.Fatalf("working credentials in %v, want exactly [%s] (err: %v)", where, tc.want, err)
			}
			if se == nil {
				return
			}
			// The recovery: import the file (same client, same name: it replaces the dead
			// credential), then the registrar works again.
			c, err := keystore.ReadRecovery(se.RecoveryFile)
			if err != nil {
				t.Fatal(err)
			}
			st.mu.Lock()
			st.failPut = nil
			st.mu.Unlock()
			if err := r.Import(ctx, c); err != nil {
				t.Fatal(err)
			}
			if _, err := r.Read(ctx, "app"); err != nil {
				t.Fatalf("after importing the recovery file: %v", err)
			}
		})
	}
}

// TestConcurrentUpdates runs two updates of one credential at once, 8 rounds, from two
// separately opened file keystores on one directory (as two processes would): both changes
// land every round, including when every read and update rotates the token.
func TestConcurrentUpdates(t *testing.T) {
	for _, rot := range []testserver.Rotation{testserver.RotateNever, testserver.RotateOnReadAndUpdate} {
		t.Run(string(rot), func(t *testing.T) {
			e := newEnv(t, rot)
			ctx := context.Background()
			dir := t.TempDir()
			var rs [2]*registrar.Registrar
			for i := range rs {
				st, err := keystore.Open(keystore.KindFile, keystore.Options{ConfigDir: dir})
				if err != nil {
					t.Fatal(err)
				}
				rs[i] = registrar.New(nil, st, registrar.Options{RecoveryDir: filepath.Join(dir, "recovery")})
			}
			if _, err := rs[0].Register(ctx, e.request("app")); err != nil {
				t.Fatal(err)
			}
			for round := range 8 {
				var wg sync.WaitGroup
				errs := make([]error, 2)
				for i, r := range rs {
					wg.Go(func() {
						_, errs[i] = r.Update(ctx, "app", func(md client.Metadata) (client.Metadata, error) {
							if md.Extra == nil {
								md.Extra = map[string]json.RawMessage{}
							}
							md.Extra[fmt.Sprintf("x_writer_%d", i)] = json.RawMessage(fmt.Sprint(round))
							return md, nil
						})
					})
				}
				wg.Wait()
				if err := errors.Join(errs...); err != nil {
					t.Fatalf("round %d: %v", round, err)
				}
				res, err := rs[1].Read(ctx, "app")
				if err != nil {
					t.Fatal(err)
				}
				for i := range rs {
					if got := string(res.Registration.Extra[fmt.Sprintf("x_writer_%d", i)]); got != fmt.Sprint(round) {
						t.Fatalf("round %d: writer %d's change is %q at the server: lost", round, i, got)
					}
				}
			}
		})
	}
}

// TestImport checks that a name or a client is never stored twice.
func TestImport(t *testing.T) {
	ctx := context.Background()
	st := keystore.NewMemory()
	r := registrar.New(nil, st, registrar.Options{})
	base := keystore.Credential{Name: "app", Issuer: "https://as.example", ClientID: "c1", RegistrationAccessToken: "t1"}
	if err := r.Import(ctx, base); err != nil {
		t.Fatal(err)
	}
	other := base
	other.Name = "other"
	var ct *registrar.ClientIDTakenError
	if err := r.Import(ctx, other); !errors.As(err, &ct) || ct.Existing != "app" {
		t.Fatalf("import of the same client as another name: %v, want a ClientIDTakenError naming app", err)
	}
	another := base
	another.ClientID = "c2"
	var nt *registrar.NameTakenError
	if err := r.Import(ctx, another); !errors.As(err, &nt) {
		t.Fatalf("import of another client under a taken name: %v, want a NameTakenError", err)
	}
	newer := base
	newer.RegistrationAccessToken = "t2"
	if err := r.Import(ctx, newer); err != nil {
		t.Fatalf("import of a newer copy of the same client: %v", err)
	}
	got, _ := st.Get(ctx, "app")
	if got.RegistrationAccessToken != "t2" {
		t.Fatal("the newer copy was not stored")
	}
	list, _ := st.List(ctx)
	if names := []string{}; !slices.Equal(append(names, list[0].Name), []string{"app"}) || len(list) != 1 {
		t.Fatalf("stored %v", list)
	}
}
