package cmd

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/dcrctl/dcrctl/keystore"
)

// TestImportOffersToRemoveTheFile: on a terminal, import asks whether to remove the recovery
// file once the credential is stored (yes removes it, no keeps it and says it holds secrets
// in clear); --remove-file removes it without asking.
func TestImportOffersToRemoveTheFile(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name, answer string
		args         []string
		removed      bool
		wantErr      string // stderr after the "stored …" line; FILE is the file's path
	}{
		{"yes", "y\n", nil, true, "Remove FILE? It holds the secrets in clear. [y/N] removed FILE\n"},
		{"no", "n\n", nil, false, "Remove FILE? It holds the secrets in clear. [y/N] FILE still holds the secrets in clear: remove it (rm FILE), or import with --remove-file\n"},
		{"remove_file", "", []string{"--remove-file"}, true, "removed FILE\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"DCRCTL_KEYSTORE": "file", "DCRCTL_CONFIG_DIR": t.TempDir(), "NO_COLOR": "1"}
			cred := keystore.Credential{Name: "app", Issuer: "http://127.0.0.1:1", ClientID: "c1", ClientSecret: "s1", RegistrationAccessToken: "r1",
				RegistrationClientURI: "http://127.0.0.1:1/register/c1"}
			file, err := keystore.WriteRecovery(t.TempDir(), cred)
			if err != nil {
				t.Fatal(err)
			}
			out, errOut := &lockedBuffer{}, &lockedBuffer{}
			ios := &IOStreams{In: strings.NewReader(tc.answer), Out: out, ErrOut: errOut, InTTY: true, ErrTTY: true,
				Getenv: func(k string) string { return env[k] }}
			code := Run(ctx, ios, BuildInfo{Version: "test"}, append([]string{"import", file}, tc.args...))
			want := "stored \"app\" (client c1)\n" + strings.ReplaceAll(tc.wantErr, "FILE", file)
			if code != ExitOK || errOut.String() != want || out.String() != "" {
				t.Errorf("exit %d, stderr %q, stdout %q; want 0 and %q", code, errOut.String(), out.String(), want)
			}
			if _, err := os.Stat(file); os.IsNotExist(err) != tc.removed {
				t.Errorf("file removed = %v, want %v", os.IsNotExist(err), tc.removed)
			}
			if got := clientIDOf(t, env, "app"); got != "c1" {
				t.Errorf("stored client %q, want c1", got)
			}
		})
	}
}
