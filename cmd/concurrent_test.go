package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// TestConcurrentUpdatesCLI: two `dcrctl update` runs on one credential at once, 8 rounds.
// Each run opens its own file keystore, as two processes would, so only the per-credential
// lock file keeps them apart. Every round, both changes are at the server afterwards, or one
// run fails with a clear error — never a silently lost change (before the lock, one change was
// lost in 6 of 8 rounds).
func TestConcurrentUpdatesCLI(t *testing.T) {
	s := startCLIServer(t, nil)
	env := map[string]string{"DCRCTL_CONFIG_DIR": t.TempDir(), "DCRCTL_KEYSTORE": "file"}
	ctx := context.Background()
	reg := runCLI(t, ctx, "", env, "register", "--issuer", s.hs.URL, "--client-credentials", "--client-id", s.cfg.Clients[0].ClientID,
		"--client-secret-file", s.secretFile, "--set", "client_name=Racer", "--set", `grant_types=["client_credentials"]`, "--name", "racer")
	if reg.Code != ExitOK {
		t.Fatalf("register: exit %d: %s", reg.Code, reg.Stderr)
	}
	for round := range 8 {
		sets := []string{fmt.Sprintf("client_uri=https://a.example/%d", round), fmt.Sprintf("policy_uri=https://b.example/%d", round)}
		results := make([]cliResult, 2)
		var wg sync.WaitGroup
		for i, set := range sets {
			wg.Go(func() { results[i] = runCLI(t, ctx, "", env, "update", "racer", "--set", set) })
		}
		wg.Wait()
		got := runCLI(t, ctx, "", env, "get", "racer", "-o", "json")
		if got.Code != ExitOK {
			t.Fatalf("round %d: get: exit %d: %s", round, got.Code, got.Stderr)
		}
		var md map[string]any
		if err := json.Unmarshal([]byte(got.Stdout), &md); err != nil {
			t.Fatal(err)
		}
		for i, member := range []string{"client_uri", "policy_uri"} {
			want := strings.TrimPrefix(sets[i], member+"=")
			switch {
			case results[i].Code == ExitOK && md[member] != want:
				t.Errorf("round %d: update of %s succeeded but the server has %v, want %s: a change was lost", round, member, md[member], want)
			case results[i].Code != ExitOK && results[i].Stderr == "":
				t.Errorf("round %d: update of %s failed (exit %d) without saying why", round, member, results[i].Code)
			}
		}
	}
}
