package keystore

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// storeCases are the behaviours every Store must have; TestMemoryStore, TestFileStore and
// TestOSStoreRealKeyring run them against each backend.
var storeCases = []struct {
	name string
	run  func(t *testing.T, s Store)
}{
	{"round trip", func(t *testing.T, s Store) {
		ctx := ctxT(t)
		want := sample("app", 1)
		if err := s.Put(ctx, want); err != nil {
			t.Fatalf("Put: %v", err)
		}
		got, err := s.Get(ctx, "app")
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		if d := credDiff(got, in(kindOf(s), want)); d != "" {
			t.Errorf("Get: %s", d)
		}
		list, err := s.List(ctx)
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		if d := credsDiff(list, []Credential{in(kindOf(s), want.withoutSecrets())}); d != "" {
			t.Errorf("List: %s", d)
		}
	}},
	{"replace rotates secrets and metadata", func(t *testing.T, s Store) {
		ctx := ctxT(t)
		for gen := 1; gen <= 3; gen++ {
			c := sample("app", gen)
			c.GrantTypes = append(c.GrantTypes, fmt.Sprintf("urn:gen:%d", gen))
			if err := s.Put(ctx, c); err != nil {
				t.Fatalf("Put gen %d: %v", gen, err)
			}
			got, err := s.Get(ctx, "app")
			if err != nil {
				t.Fatalf("Get gen %d: %v", gen, err)
			}
			if d := credDiff(got, in(kindOf(s), c)); d != "" {
				t.Errorf("Get gen %d: %s", gen, d)
			}
		}
		list, err := s.List(ctx)
		if err != nil || len(list) != 1 {
			t.Fatalf("List = %d credentials, %v; want 1", len(list), err)
		}
	}},
	{"delete", func(t *testing.T, s Store) {
		ctx := ctxT(t)
		for _, n := range []string{"a", "b"} {
			if err := s.Put(ctx, sample(n, 1)); err != nil {
				t.Fatalf("Put %s: %v", n, err)
			}
		}
		if err := s.Delete(ctx, "a"); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if _, err := s.Get(ctx, "a"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get after Delete: %v, want ErrNotFound", err)
		}
		if err := s.Delete(ctx, "a"); !errors.Is(err, ErrNotFound) {
			t.Errorf("second Delete: %v, want ErrNotFound", err)
		}
		list, err := s.List(ctx)
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		if d := credsDiff(list, []Credential{in(kindOf(s), sample("b", 1).withoutSecrets())}); d != "" {
			t.Errorf("List: %s", d)
		}
	}},
	{"get unknown name", func(t *testing.T, s Store) {
		_, err := s.Get(ctxT(t), "nope")
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get: %v, want ErrNotFound", err)
		}
		if !strings.Contains(err.Error(), `"nope"`) || !strings.Contains(err.Error(), "dcrctl list") {
			t.Errorf("message %q should name the credential and the fix", err)
		}
	}},
	{"credential without secrets", func(t *testing.T, s Store) {
		ctx := ctxT(t)
		want := Credential{Name: "public", Issuer: "https://as.example.test", ClientID: "pub", Keystore: kindOf(s)}
		if err := s.Put(ctx, want); err != nil {
			t.Fatalf("Put: %v", err)
		}
		got, err := s.Get(ctx, "public")
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		if d := credDiff(got, want); d != "" {
			t.Errorf("Get: %s", d)
		}
	}},
	{"registration response loses its secrets", func(t *testing.T, s Store) {
		ctx := ctxT(t)
		c := sample("app", 1)
		c.Registration = []byte(` { "client_id" : "x", "client_secret":"s3cr3t", "z":1,
			"registration_access_token":"t0k", "refresh_token":"r", "a":{"b" : [ 1 ,2]} } `)
		if err := s.Put(ctx, c); err != nil {
			t.Fatalf("Put: %v", err)
		}
		want := in(kindOf(s), c)
		want.Registration = []byte(`{"client_id":"x","z":1,"a":{"b":[1,2]}}`)
		got, err := s.Get(ctx, "app")
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		if d := credDiff(got, want); d != "" {
			t.Errorf("Get: %s", d)
		}
	}},
	{"invalid input is refused and nothing stored", func(t *testing.T, s Store) {
		ctx := ctxT(t)
		bad := map[string]Credential{
			"empty name":         {},
			"leading space":      {Name: " x"},
			"control character":  {Name: "a\nb"},
			"name too long":      {Name: strings.Repeat("n", 201)},
			"invalid UTF-8":      {Name: "\xff"},
			"registration array": {Name: "x", Registration: []byte(`[1]`)},
			"registration junk":  {Name: "x", Registration: []byte(`{"a":1} x`)},
		}
		for what, c := range bad {
			if err := s.Put(ctx, c); err == nil || errors.Is(err, ErrNotFound) {
				t.Errorf("Put(%s) = %v, want a validation error", what, err)
			}
		}
		if list, err := s.List(ctx); err != nil || len(list) != 0 {
			t.Errorf("List = %d credentials, %v; want none", len(list), err)
		}
	}},
	{"long secrets span several entries", func(t *testing.T, s Store) {
		ctx := ctxT(t)
		c := sample("long", 1)
		c.RefreshToken = strings.Repeat("0123456789abcdef", 600) + "€" // 9,603 bytes
		if err := s.Put(ctx, c); err != nil {
			t.Fatalf("Put: %v", err)
		}
		got, err := s.Get(ctx, "long")
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		if d := credDiff(got, in(kindOf(s), c)); d != "" {
			t.Errorf("Get: %s", d)
		}
	}},
	{"concurrent goroutines", func(t *testing.T, s Store) {
		ctx := ctxT(t)
		const workers, rounds = 6, 4
		var wg sync.WaitGroup
		errs := make(chan error, workers*rounds*4)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for r := range rounds {
					own := fmt.Sprintf("w%d", w)
					for _, c := range []Credential{sample(own, r), sample("shared", w*100+r)} {
						if err := s.Put(ctx, c); err != nil {
							errs <- fmt.Errorf("Put %s: %w", c.Name, err)
						}
					}
					got, err := s.Get(ctx, own)
					if err != nil {
						errs <- fmt.Errorf("Get %s: %w", own, err)
					} else if d := credDiff(got, in(kindOf(s), sample(own, r))); d != "" {
						errs <- fmt.Errorf("Get %s: %s", own, d)
					}
					if _, err := s.Get(ctx, "shared"); err != nil {
						errs <- fmt.Errorf("Get shared: %w", err)
					}
					if _, err := s.List(ctx); err != nil {
						errs <- fmt.Errorf("List: %w", err)
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		list, err := s.List(ctx)
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		var want []Credential
		want = append(want, in(kindOf(s), sample("shared", 0).withoutSecrets())) // only the name is compared below
		for w := range workers {
			want = append(want, in(kindOf(s), sample(fmt.Sprintf("w%d", w), rounds-1).withoutSecrets()))
		}
		got := list
		if len(got) != len(want) {
			t.Fatalf("List: %s", credsDiff(got, want))
		}
		// "shared" was written last by any of the workers: compare all but its client_id.
		if got[0].Name != "shared" {
			t.Fatalf("List[0] = %q, want shared", got[0].Name)
		}
		if d := credsDiff(got[1:], want[1:]); d != "" {
			t.Errorf("List: %s", d)
		}
		shared, err := s.Get(ctx, "shared")
		if err != nil {
			t.Fatalf("Get shared: %v", err)
		}
		var gen int
		if _, err := fmt.Sscanf(shared.RegistrationAccessToken, "rat-shared-%d", &gen); err != nil {
			t.Fatalf("shared secrets are not from any Put (%d bytes)", len(shared.RegistrationAccessToken))
		}
		if d := credDiff(shared, in(kindOf(s), sample("shared", gen))); d != "" {
			t.Errorf("shared is a mix of two Puts: %s", d)
		}
	}},
}

func runStoreCases(t *testing.T, open func(t *testing.T) Store) {
	for _, tc := range storeCases {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, open(t)) })
	}
}

func TestMemoryStore(t *testing.T) {
	runStoreCases(t, func(t *testing.T) Store {
		s, err := Open(KindMemory, Options{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestFileStore(t *testing.T) {
	runStoreCases(t, func(t *testing.T) Store {
		s, err := Open(KindFile, Options{ConfigDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
