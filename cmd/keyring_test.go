package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"testing"
	"time"

	dbus "github.com/godbus/dbus/v5"

	"github.com/dcrctl/dcrctl/testserver"
)

// needKeyring skips the test unless a real Secret Service is wanted (DCRCTL_TEST_KEYRING=1,
// as .ci/test sets, or CI=true), and then fails it when none answers within 10 s.
func needKeyring(t *testing.T) {
	t.Helper()
	if os.Getenv("DCRCTL_TEST_KEYRING") != "1" && os.Getenv("CI") != "true" {
		t.Skip("set DCRCTL_TEST_KEYRING=1 to run against the real Secret Service (see .ci/with-keyring)")
	}
	if err := secretServiceUp(10 * time.Second); err != nil {
		t.Fatalf("a Secret Service on the session bus is required here (CI=true or DCRCTL_TEST_KEYRING=1): %v", err)
	}
}

// secretServiceUp waits, bounded in time and count, until org.freedesktop.secrets has an
// owner on the session bus (never autolaunching a bus).
func secretServiceUp(limit time.Duration) error {
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		return errors.New("no DBUS_SESSION_BUS_ADDRESS: run under dbus-run-session with .ci/with-keyring")
	}
	conn, err := dbus.SessionBusPrivateNoAutoStartup()
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.Auth(nil); err != nil {
		return err
	}
	if err := conn.Hello(); err != nil {
		return err
	}
	deadline := time.Now().Add(limit)
	for range 200 {
		var has bool
		if err := conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, "org.freedesktop.secrets").Store(&has); err != nil {
			return err
		}
		if has {
			return nil
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("org.freedesktop.secrets has no owner: start gnome-keyring-daemon (see .ci/with-keyring)")
}

// TestOSKeyringLifecycle registers, reads (with rotation), shows and deletes a client with
// the credential in the real OS keyring (--keystore os, the default).
func TestOSKeyringLifecycle(t *testing.T) {
	needKeyring(t)
	s := startCLIServer(t, func(c *testserver.Config) {
		c.RotateRegistrationToken = testserver.RotateOnReadAndUpdate
		c.RotateClientSecret = testserver.RotateOnReadAndUpdate
	})
	ctx := context.Background()
	env := map[string]string{"DCRCTL_CONFIG_DIR": t.TempDir(), "DCRCTL_CLIENT_SECRET": s.cfg.Clients[0].ClientSecret, "DCRCTL_ISSUER": s.cfg.Issuer}
	name := "keyring-test-" + time.Now().UTC().Format("150405.000000")
	must := func(args ...string) cliResult {
		t.Helper()
		got := runCLI(t, ctx, "", env, args...)
		if got.Code != ExitOK {
			t.Fatalf("dcrctl %v: exit %d: %s", args, got.Code, got.Stderr)
		}
		return got
	}
	t.Cleanup(func() { runCLI(t, ctx, "", env, "forget", name) })
	must("register", "--client-credentials", "--client-id", "bootstrap", "--template", "service", "--name", name)
	secrets := func() (string, string) {
		var v struct {
			Keystore string `json:"keystore"`
			Secret   string `json:"client_secret"`
			RAT      string `json:"registration_access_token"`
		}
		if err := json.Unmarshal([]byte(must("show", name, "-o", "json", "--show-secrets").Stdout), &v); err != nil {
			t.Fatal(err)
		}
		if v.Secret == "" || v.RAT == "" {
			t.Fatal("the keyring returned no secrets")
		}
		return v.Secret, v.RAT
	}
	s1, r1 := secrets()
	must("get", name)
	s2, r2 := secrets()
	if s1 == s2 || r1 == r2 {
		t.Error("the rotated client secret and registration access token were not stored in the keyring")
	}
	list := must("list", "-o", "json").Stdout
	var items []listItem
	if err := json.Unmarshal([]byte(list), &items); err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || items[0].Name != name || items[0].Keystore != "os" {
		t.Errorf("list = %+v, want one credential %s in keystore os", items, name)
	}
	must("login", name)
	must("delete", name)
}
