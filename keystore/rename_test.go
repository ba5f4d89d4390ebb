package keystore

import (
	"errors"
	"testing"
)

// The "rename" store case runs Rename on every store kind: the credential moves to
// the new name whole (secrets included), the old name is gone, a taken or missing name is
// refused and changes nothing.
func init() {
	storeCases = append(storeCases, struct {
		name string
		run  func(t *testing.T, s Store)
	}{"rename", func(t *testing.T, s Store) {
		ctx := ctxT(t)
		for _, n := range []string{"a", "b"} {
			if err := s.Put(ctx, sample(n, 1)); err != nil {
				t.Fatalf("Put %s: %v", n, err)
			}
		}
		rn := s.(Renamer)
		if err := rn.Rename(ctx, "a", "c"); err != nil {
			t.Fatalf("Rename a c: %v", err)
		}
		want := sample("a", 1)
		want.Name = "c"
		got, err := s.Get(ctx, "c")
		if err != nil {
			t.Fatalf("Get c: %v", err)
		}
		if d := credDiff(got, in(kindOf(s), want)); d != "" {
			t.Errorf("renamed credential: %s", d)
		}
		if _, err := s.Get(ctx, "a"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get a after the rename: %v, want ErrNotFound", err)
		}
		if err := rn.Rename(ctx, "c", "b"); !errors.Is(err, ErrExists) {
			t.Errorf("Rename onto b: %v, want ErrExists", err)
		}
		if err := rn.Rename(ctx, "nope", "x"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Rename of a missing name: %v, want ErrNotFound", err)
		}
		if err := rn.Rename(ctx, "c", ""); err == nil {
			t.Error("Rename to an empty name: no error")
		}
		list, err := s.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if d := credsDiff(list, []Credential{in(kindOf(s), sample("b", 1).withoutSecrets()), in(kindOf(s), want.withoutSecrets())}); d != "" {
			t.Errorf("List after the renames: %s", d)
		}
		got, err = s.Get(ctx, "b")
		if err != nil || credDiff(got, in(kindOf(s), sample("b", 1))) != "" {
			t.Errorf("b changed by the refused rename: %v %s", err, credDiff(got, in(kindOf(s), sample("b", 1))))
		}
	}})
}
