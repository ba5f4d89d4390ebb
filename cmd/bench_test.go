package cmd

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/dcrctl/dcrctl/client/bench"
)

// TestBenchCommand runs dcrctl bench against the real server: the JSON report's counts, the
// table's rows, and the exit codes of refused invocations.
func TestBenchCommand(t *testing.T) {
	s := startCLIServer(t, nil)
	ctx := context.Background()
	base := []string{"bench", "--issuer", s.hs.URL, "--client-id", "bootstrap", "--client-secret-file", s.secretFile,
		"--template", "service", "--installs", "6", "--concurrency", "2"}

	res := runCLI(t, ctx, "", nil, append(base, "-o", "json")...)
	if res.Code != ExitOK {
		t.Fatalf("exit %d, stderr %s", res.Code, res.Stderr)
	}
	var r bench.Report
	if err := json.Unmarshal([]byte(res.Stdout), &r); err != nil {
		t.Fatalf("-o json: %v\n%s", err, res.Stdout)
	}
	type counts struct {
		Steps            []bench.Step
		Requests, Errors int64
		Installs         int64
		Registered, Del  int64
		StoppedBy        string
	}
	got := counts{r.Steps, r.Requests, r.Errors, r.Installs.Completed, r.Cleanup.Registered, r.Cleanup.DeletedByStep, r.StoppedBy}
	want := counts{bench.AllSteps, 30, 0, 6, 6, 6, "installs"}
	if !reflect.DeepEqual(got, want) || res.Stderr != "" {
		t.Errorf("report %+v, stderr %q; want %+v and nothing on stderr (not a terminal: no progress)", got, res.Stderr, want)
	}

	// --max-requests alone replaces the default --installs bound, and is exact.
	res = runCLI(t, ctx, "", nil, "bench", "--issuer", s.hs.URL, "--client-id", "bootstrap", "--client-secret-file", s.secretFile,
		"--steps", "token", "--max-requests", "150", "-o", "json")
	r = bench.Report{}
	if err := json.Unmarshal([]byte(res.Stdout), &r); err != nil || r.Requests != 150 || r.StoppedBy != "max_requests" {
		t.Errorf("--max-requests 150: %d requests, stopped by %q (%v, stderr %s); want 150, max_requests", r.Requests, r.StoppedBy, err, res.Stderr)
	}

	res = runCLI(t, ctx, "", nil, append(base, "--steps", "token,register")...)
	for _, line := range []string{"STEP", "token", "register", "HISTOGRAM: one column per quarter doubling", "cleanup: 6 clients registered, 0 deleted by the delete step, 6 deleted afterwards"} {
		if res.Code != ExitOK || !strings.Contains(res.Stdout, line) {
			t.Errorf("table (exit %d) lacks %q:\n%s%s", res.Code, line, res.Stdout, res.Stderr)
		}
	}

	for _, c := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"non-loopback host without --yes", []string{"bench", "--issuer", "https://dcr.example.com", "--token-file", s.secretFile, "--template", "t"},
			ExitUsage, "add --yes if you mean it"},
		{"token step without a client", []string{"bench", "--issuer", s.hs.URL, "--template", "t"}, ExitUsage, "the token step needs --client-id"},
		{"nothing to register", []string{"bench", "--issuer", s.hs.URL, "--client-id", "bootstrap", "--client-secret-file", s.secretFile}, ExitUsage, "give --template ID or -f FILE"},
		{"unknown step", append(base, "--steps", "token,fly"), ExitUsage, `unknown step "fly"`},
	} {
		res := runCLI(t, ctx, "", nil, c.args...)
		if res.Code != c.code || !strings.Contains(res.Stderr, c.msg) || res.Stdout != "" {
			t.Errorf("%s: exit %d, stderr %q, stdout %q; want exit %d naming %q", c.name, res.Code, res.Stderr, res.Stdout, c.code, c.msg)
		}
	}
}
