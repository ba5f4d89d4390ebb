package registrar_test

import (
	"context"
	"errors"
	"testing"

	"github.com/dcrctl/dcrctl/client/registrar"
	"github.com/dcrctl/dcrctl/keystore"
)

// plainStore hides keystore.Memory's Rename and Lock: a store that can only Put, Get, Delete
// and List, so Rename takes its second path.
type plainStore struct{ m *keystore.Memory }

func (s plainStore) Put(ctx context.Context, c keystore.Credential) error { return s.m.Put(ctx, c) }
func (s plainStore) Get(ctx context.Context, n string) (keystore.Credential, error) {
	return s.m.Get(ctx, n)
}
func (s plainStore) Delete(ctx context.Context, n string) error { return s.m.Delete(ctx, n) }
func (s plainStore) List(ctx context.Context) ([]keystore.Credential, error) {
	return s.m.List(ctx)
}

func TestRename(t *testing.T) {
	for _, tc := range []struct {
		name  string
		store func(*keystore.Memory) keystore.Store
	}{
		{"renamer", func(m *keystore.Memory) keystore.Store { return m }},
		{"put_then_delete", func(m *keystore.Memory) keystore.Store { return plainStore{m} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			m := keystore.NewMemory()
			old := keystore.Credential{Name: "old", Issuer: "https://as.example", ClientID: "c1", ClientSecret: "s1", RegistrationAccessToken: "r1"}
			other := keystore.Credential{Name: "other", Issuer: "https://as.example", ClientID: "c2"}
			for _, c := range []keystore.Credential{old, other} {
				if err := m.Put(ctx, c); err != nil {
					t.Fatal(err)
				}
			}
			r := registrar.New(nil, tc.store(m), registrar.Options{})
			if err := r.Rename(ctx, "old", "new"); err != nil {
				t.Fatalf("Rename: %v", err)
			}
			var nt *registrar.NameTakenError
			if err := r.Rename(ctx, "new", "other"); !errors.As(err, &nt) || nt.Name != "other" {
				t.Errorf("Rename onto a taken name: %v, want a NameTakenError for other", err)
			}
			if err := r.Rename(ctx, "gone", "x"); !errors.Is(err, keystore.ErrNotFound) {
				t.Errorf("Rename of a missing name: %v, want ErrNotFound", err)
			}
			if err := r.Rename(ctx, "new", "bad name"); err == nil {
				t.Error("Rename to an invalid name: no error")
			}
			got, err := m.Get(ctx, "new")
			want := old
			want.Name, want.Keystore = "new", keystore.KindMemory
			if err != nil || got.ClientID != want.ClientID || got.ClientSecret != want.ClientSecret ||
				got.RegistrationAccessToken != want.RegistrationAccessToken || got.Issuer != want.Issuer || got.Name != "new" {
				t.Errorf("Get new: %v, %q (client %s), want the old credential under the new name", err, got.Name, got.ClientID)
			}
			list, _ := m.List(ctx)
			var names []string
			for _, c := range list {
				names = append(names, c.Name)
			}
			if len(names) != 2 || names[0] != "new" || names[1] != "other" {
				t.Errorf("names after the renames: %q, want [new other]", names)
			}
		})
	}
}
