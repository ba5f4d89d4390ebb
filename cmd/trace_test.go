package cmd

import (
	"context"
	"strings"
	"testing"

	"github.com/dcrctl/dcrctl/keystore"
)

// TestVerboseTraceHasNoSecrets runs register, get and login with -v against the real
// testserver and checks that the trace shows the exchanges but none of the secrets.
func TestVerboseTraceHasNoSecrets(t *testing.T) {
	s := startCLIServer(t, nil)
	dir := t.TempDir()
	env := map[string]string{"DCRCTL_CONFIG_DIR": dir, "DCRCTL_KEYSTORE": "file", "DCRCTL_CLIENT_SECRET": s.cfg.Clients[0].ClientSecret}
	var trace strings.Builder
	for _, args := range [][]string{
		{"-v", "register", "--issuer", s.cfg.Issuer, "--client-credentials", "--client-id", "bootstrap", "--template", "service", "--name", "svc"},
		{"-v", "get", "svc"},
		{"-v", "update", "svc", "--set", "x_admin_password=Adm1n-Pw-123"},
		{"-v", "login", "svc"},
	} {
		got := runCLI(t, context.Background(), "", env, args...)
		if got.Code != 0 {
			t.Fatalf("dcrctl %v: exit %d", args, got.Code)
		}
		trace.WriteString(got.Stderr)
	}
	st, err := keystore.Open(keystore.KindFile, keystore.Options{ConfigDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	cred, err := st.Get(context.Background(), "svc")
	if err != nil {
		t.Fatal(err)
	}
	for name, secret := range map[string]string{"bootstrap secret": s.cfg.Clients[0].ClientSecret,
		"client secret": cred.ClientSecret, "registration access token": cred.RegistrationAccessToken,
		"vendor password": "Adm1n-Pw-123"} {
		if secret == "" || strings.Contains(trace.String(), secret) {
			t.Errorf("the %s is empty or in the trace", name)
		}
	}
	for _, want := range []string{
		"> POST " + s.cfg.Issuer + "/token\n", "> Authorization: Basic [REDACTED]\n",
		"> POST " + s.cfg.Issuer + "/register\n", "> Authorization: Bearer [REDACTED]\n",
		"< 201 Created (", `"client_secret":"[REDACTED]"`, `"registration_access_token":"[REDACTED]"`,
		"> GET " + s.cfg.Issuer + "/register/" + cred.ClientID + "\n", `"access_token":"[REDACTED]"`,
		`"x_admin_password":"[REDACTED]"`, "warning: --set x_admin_password on the command line",
	} {
		if !strings.Contains(trace.String(), want) {
			t.Errorf("trace lacks %q", want)
		}
	}
}
