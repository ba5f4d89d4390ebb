package cmd

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcrctl/dcrctl/testserver"
)

func TestApplyDebugPage(t *testing.T) {
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte("from-a-file-pw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	type result struct {
		Page   testserver.DebugPage
		Stderr string
	}
	for _, tc := range []struct {
		name, value, env, stdin string
		loopback                bool
		want                    result
	}{
		{"default on loopback", "", "", "", true, result{testserver.DebugPage{}, "dcrctl serve: debugger page at http://h/debug (loopback only; --debug-page off turns it off)\n"}},
		{"default elsewhere", "", "", "", false, result{testserver.DebugPage{}, "dcrctl serve: the debugger page is off on a non-loopback address: give it a password with --debug-page FILE or DCRCTL_DEBUG_PAGE_PASSWORD\n"}},
		{"off", "off", "env-pw", "", false, result{testserver.DebugPage{Off: true}, ""}},
		{"password file", pwFile, "", "", false, result{testserver.DebugPage{Password: "from-a-file-pw"}, "dcrctl serve: debugger page at http://h/debug (password required)\n"}},
		{"password on stdin", "-", "", "piped-pw\n", false, result{testserver.DebugPage{Password: "piped-pw"}, "dcrctl serve: debugger page at http://h/debug (password required)\n"}},
		{"password in the environment", "", "env-pw", "", false, result{testserver.DebugPage{Password: "env-pw"}, "dcrctl serve: debugger page at http://h/debug (password required)\n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var errOut bytes.Buffer
			ios := &IOStreams{In: strings.NewReader(tc.stdin), Out: &bytes.Buffer{}, ErrOut: &errOut,
				Getenv: func(k string) string { return map[string]string{debugPasswordEnv: tc.env}[k] }}
			cfg := testserver.Config{Issuer: "http://h"}
			if err := applyDebugPage(ios, tc.value, &cfg, tc.loopback); err != nil {
				t.Fatal(err)
			}
			got := result{cfg.DebugPage, errOut.String()}
			if got != tc.want {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}
