//go:build linux

package keystore

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	dbus "github.com/godbus/dbus/v5"
	"github.com/zalando/go-keyring"
)

// realKeyring returns an "os" store on the real Secret Service of this session, under a
// service name of its own that is emptied at the end of the test. It runs when
// DCRCTL_TEST_KEYRING=1 or CI=true (and then fails if the Secret Service is missing), and
// skips otherwise. Before use it waits, for at most 10 s, until the bus name
// org.freedesktop.secrets has an owner: gnome-keyring-daemon claims it a moment after it
// starts, and a call made before that races with the start.
func realKeyring(t *testing.T) (*indexedStore, string) {
	t.Helper()
	if os.Getenv("DCRCTL_TEST_KEYRING") != "1" && os.Getenv("CI") != "true" {
		t.Skip("set DCRCTL_TEST_KEYRING=1 to run against the real Secret Service (see .ci/with-keyring)")
	}
	_, err := exec.LookPath("secret-tool")
	needComponent(t, "secret-tool (apt: libsecret-tools)", err)
	needComponent(t, "a D-Bus session bus (run under dbus-run-session)", sessionBusCheck())
	needComponent(t, "a Secret Service owning org.freedesktop.secrets (gnome-keyring, see .ci/with-keyring)", waitForSecretService(10*time.Second))

	service := "dcrctl-test-" + newID()[:12]
	st, err := Open(KindOS, Options{ConfigDir: t.TempDir(), Service: service, ReadTimeout: 10 * time.Second, WriteTimeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		done := make(chan error, 1)
		go func() { done <- keyring.DeleteAll(service) }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("cleaning up keyring service %s: %v", service, err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("cleaning up keyring service %s: timed out", service)
		}
	})
	return st.(*indexedStore), service
}

// waitForSecretService polls NameHasOwner("org.freedesktop.secrets") on a private
// connection to the session bus (never autolaunching one) until it is true or limit passes.
func waitForSecretService(limit time.Duration) error {
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
	for i := 0; i < 1000; i++ { // bounded in count as well as in time
		var has bool
		err := conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, "org.freedesktop.secrets").Store(&has)
		if err != nil {
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
	return fmt.Errorf("nothing owns org.freedesktop.secrets after %s", limit)
}

func TestOSStoreRealKeyring(t *testing.T) {
	realKeyring(t) // skip or fail once here, rather than in every case
	runStoreCases(t, func(t *testing.T) Store {
		s, _ := realKeyring(t)
		return s
	})
}

// secretToolAccounts lists the accounts ("username" attributes, in go-keyring's terms) that
// `secret-tool search --all service S` finds. Its output holds the secrets, so it is never
// printed.
func secretToolAccounts(t *testing.T, service string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "secret-tool", "search", "--all", "service", service).CombinedOutput()
	if err != nil && len(out) > 0 && !bytes.Contains(out, []byte("attribute.")) {
		t.Fatalf("secret-tool search: %v (%d bytes of output, not shown)", err, len(out))
	}
	var accts []string
	for line := range strings.Lines(string(out)) {
		if a, ok := strings.CutPrefix(strings.TrimSpace(line), "attribute.username = "); ok {
			accts = append(accts, a)
		}
	}
	slices.Sort(accts)
	return accts
}

// secretToolLookup returns what `secret-tool lookup` prints for one entry.
func secretToolLookup(t *testing.T, service, account string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "secret-tool", "lookup", "service", service, "username", account)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("secret-tool lookup %s: %v: %s", account, err, stderr.String())
	}
	return string(out)
}

// TestRealKeyringEntries checks, with secret-tool, what the Secret Service actually holds:
// only secrets, in entries of at most 2,000 bytes named by the credential's stable id, the
// old generation gone after a rotation and everything gone after a delete.
func TestRealKeyringEntries(t *testing.T) {
	s, service := realKeyring(t)
	ctx := ctxT(t)
	c := sample("app", 1)
	c.RefreshToken = strings.Repeat("refresh-", 500) // 4,000 bytes: three entries
	if err := s.Put(ctx, c); err != nil {
		t.Fatal(err)
	}
	idx, err := readIndex(s.indexPath())
	if err != nil {
		t.Fatal(err)
	}
	ref := *idx.Credentials[0].Secrets
	wantAccts := []string{ref.account(0), ref.account(1), ref.account(2)}
	if got := secretToolAccounts(t, service); !slices.Equal(got, wantAccts) {
		t.Fatalf("keyring accounts %q, want %q", got, wantAccts)
	}
	var joined strings.Builder
	for _, a := range wantAccts {
		part := secretToolLookup(t, service, a)
		if len(part) > maxKeyringChunk {
			t.Errorf("entry %s holds %d bytes, more than %d", a, len(part), maxKeyringChunk)
		}
		joined.WriteString(part)
	}
	var b secretBlob
	if err := json.Unmarshal([]byte(joined.String()), &b); err != nil || b != blobOf(c) {
		t.Errorf("the entries, joined, are not the credential's secrets (%d bytes)", joined.Len())
	}
	if !strings.HasPrefix(ref.account(0), idx.Credentials[0].ID+".") || strings.Contains(ref.account(0), "app") {
		t.Errorf("account %q should be keyed by the stable id, not the name", ref.account(0))
	}

	// Rotation: the new generation replaces the old one entirely.
	c2 := sample("app", 2)
	if err := s.Put(ctx, c2); err != nil {
		t.Fatal(err)
	}
	idx, _ = readIndex(s.indexPath())
	ref2 := *idx.Credentials[0].Secrets
	if got, want := secretToolAccounts(t, service), []string{ref2.account(0)}; !slices.Equal(got, want) {
		t.Errorf("after rotation, keyring accounts %q, want %q", got, want)
	}
	if ref2.ID != ref.ID || ref2.Gen != ref.Gen+1 || len(idx.Garbage) != 0 {
		t.Errorf("after rotation: ref %+v (was %+v), garbage %d", ref2, ref, len(idx.Garbage))
	}
	got, err := s.Get(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	if d := credDiff(got, in(KindOS, c2)); d != "" {
		t.Errorf("Get after rotation: %s", d)
	}

	if err := s.Delete(ctx, "app"); err != nil {
		t.Fatal(err)
	}
	if got := secretToolAccounts(t, service); len(got) != 0 {
		t.Errorf("after Delete, keyring accounts %q, want none", got)
	}
}

// TestRealKeyringMissingEntry: an entry deleted behind dcrctl's back is reported as such.
func TestRealKeyringMissingEntry(t *testing.T) {
	s, service := realKeyring(t)
	ctx := ctxT(t)
	if err := s.Put(ctx, sample("app", 1)); err != nil {
		t.Fatal(err)
	}
	idx, _ := readIndex(s.indexPath())
	if err := keyring.Delete(service, idx.Credentials[0].Secrets.account(0)); err != nil {
		t.Fatal(err)
	}
	_, err := s.Get(ctx, "app")
	if !errors.Is(err, ErrSecretsMissing) || !strings.Contains(err.Error(), service) {
		t.Fatalf("Get: %v, want ErrSecretsMissing naming the entry", err)
	}
}

// TestSessionBusCheck: with neither $DBUS_SESSION_BUS_ADDRESS nor /run/user/UID/bus, the
// keyring is unavailable at once and dbus-launch is never run (a fake one on $PATH would
// leave a mark).
func TestSessionBusCheck(t *testing.T) {
	tests := []struct {
		name    string
		env     string
		busFile bool
		wantErr bool
		wantEnv string // $DBUS_SESSION_BUS_ADDRESS afterwards; "<bus>" = the bus file
	}{
		{"no bus at all", "", false, true, ""},
		{"autolaunch only", "autolaunch:", false, true, "autolaunch:"},
		{"address set", "unix:path=/nonexistent/bus", false, false, "unix:path=/nonexistent/bus"},
		{"systemd bus socket", "", true, false, "unix:path=<bus>"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			runDir := t.TempDir()
			saved := runUserDir
			runUserDir = func() string { return runDir }
			t.Cleanup(func() { runUserDir = saved })
			if tc.busFile {
				os.WriteFile(filepath.Join(runDir, "bus"), nil, 0o600)
			}
			t.Setenv("DBUS_SESSION_BUS_ADDRESS", tc.env)
			err := sessionBusCheck()
			if (err != nil) != tc.wantErr {
				t.Fatalf("sessionBusCheck() = %v, want error %v", err, tc.wantErr)
			}
			want := strings.ReplaceAll(tc.wantEnv, "<bus>", filepath.Join(runDir, "bus"))
			if got := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); got != want {
				t.Errorf("DBUS_SESSION_BUS_ADDRESS = %q, want %q", got, want)
			}
		})
	}
}

func TestNoSessionBus(t *testing.T) {
	runDir, bin := t.TempDir(), t.TempDir()
	saved := runUserDir
	runUserDir = func() string { return runDir }
	t.Cleanup(func() { runUserDir = saved })
	mark := filepath.Join(bin, "dbus-launch-ran")
	os.WriteFile(filepath.Join(bin, "dbus-launch"), []byte("#!/bin/sh\ntouch "+mark+"\nexit 1\n"), 0o755)
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")

	dir := t.TempDir()
	st, err := Open(KindOS, Options{ConfigDir: dir, Service: "dcrctl-nobus", ReadTimeout: time.Minute, WriteTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	// A credential whose secrets are (supposedly) in the keyring, for Get and Delete.
	ref := secretRef{Keystore: KindOS, ID: "0123", Gen: 1, Chunks: 1, Size: 10}
	if err := writeIndex(filepath.Join(dir, indexFile), index{Credentials: []indexEntry{{Name: "app", ID: "0123", Keystore: KindOS, Secrets: &ref}}}); err != nil {
		t.Fatal(err)
	}
	ops := []struct {
		name string
		f    func() error
	}{
		{"Put", func() error { return st.Put(ctx, sample("new", 1)) }},
		{"Get", func() error { _, err := st.Get(ctx, "app"); return err }},
		{"Delete", func() error { return st.Delete(ctx, "app") }},
	}
	for _, op := range ops {
		err := op.f()
		var ue *UnavailableError
		if !errors.As(err, &ue) || ue.Err != nil || !strings.Contains(ue.Reason, "no D-Bus session bus") {
			t.Errorf("%s: %v, want the immediate *UnavailableError (no session bus)", op.name, err)
		}
	}
	if list, err := st.List(ctx); err != nil || len(list) != 0 { // Delete removed "app" from the index
		t.Errorf("List without a keyring = %d, %v; want 0, nil", len(list), err)
	}
	if _, err := os.Stat(mark); err == nil {
		t.Error("dbus-launch was run")
	}
}

// blockingHandler is a D-Bus object handler that never answers: each incoming method call
// (godbus handles each in its own goroutine) waits until stop is closed.
type blockingHandler struct {
	stop  chan struct{}
	calls atomic.Int64
}

func (h *blockingHandler) LookupObject(dbus.ObjectPath) (dbus.ServerObject, bool) {
	h.calls.Add(1)
	<-h.stop
	return nil, false
}

// startBus starts a private dbus-daemon and returns its address; it is killed at the end of
// the test.
func startBus(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("dbus-daemon")
	needComponent(t, "dbus-daemon (apt: dbus)", err)
	cmd := exec.Command(path, "--session", "--nofork", "--nopidfile", "--print-address=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = nil
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(stdout).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case addr := <-line:
		if addr == "" {
			t.Fatal("dbus-daemon printed no address")
		}
		return addr
	case <-time.After(10 * time.Second):
		t.Fatal("dbus-daemon did not print its address within 10s")
	}
	return ""
}

// TestHungSecretService: a bus where org.freedesktop.secrets is owned by a connection that
// never answers. Every keyring call must come back with a *TimeoutError within its bound.
// The calls run in a child process (this test binary again): go-keyring uses godbus's one
// shared session-bus connection per process, and the abandoned calls stay blocked.
func TestHungSecretService(t *testing.T) {
	addr := startBus(t)
	h := &blockingHandler{stop: make(chan struct{})}
	conn, err := dbus.Connect(addr, dbus.WithHandler(h))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { close(h.stop); conn.Close() })
	reply, err := conn.RequestName("org.freedesktop.secrets", dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("RequestName: %v, %v", reply, err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), "KEYSTORE_HELPER=hung", "KEYSTORE_DIR="+t.TempDir(), "DBUS_SESSION_BUS_ADDRESS="+addr)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helper: %v\n%s\n%s", err, out, stderr.String())
	}
	var got []hungResult
	for line := range strings.Lines(string(out)) {
		var r hungResult
		if json.Unmarshal([]byte(line), &r) == nil && r.Op != "" {
			got = append(got, r)
		}
	}
	want := []hungResult{
		{Op: "Put", Type: "*keystore.TimeoutError", TimeoutOp: "write", Within: true},
		{Op: "Get", Type: "*keystore.TimeoutError", TimeoutOp: "read", Within: true},
		{Op: "Delete", Type: "*keystore.TimeoutError", TimeoutOp: "delete", Within: true},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("results %+v\nwant    %+v", got, want)
	}
	if h.calls.Load() == 0 {
		t.Error("the hung service never received a call: the timeout came from elsewhere")
	}
	for _, secret := range []string{"cs-app", "rat-app", "rt-app"} {
		if strings.Contains(string(out)+stderr.String(), secret) {
			t.Errorf("helper output shows a secret")
		}
	}
}

// hungResult is what the helper reports for one call against the hung Secret Service.
type hungResult struct {
	Op        string `json:"op"`
	Type      string `json:"type"`
	TimeoutOp string `json:"timeout_op"`
	// Within: the call returned after its timeout and less than 2 s later.
	Within bool `json:"within"`
}

func init() { helpers["hung"] = helperHungKeyring }

func helperHungKeyring(t *testing.T) {
	dir := os.Getenv("KEYSTORE_DIR")
	const read, write = 300 * time.Millisecond, 600 * time.Millisecond
	st, err := Open(KindOS, Options{ConfigDir: dir, Service: "dcrctl-hung", ReadTimeout: read, WriteTimeout: write})
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	report := func(op string, limit time.Duration, f func() error) {
		start := time.Now()
		err := f()
		took := time.Since(start)
		r := hungResult{Op: op, Type: fmt.Sprintf("%T", errors.Unwrap(err))}
		var te *TimeoutError
		if errors.As(err, &te) {
			r.Type, r.TimeoutOp = fmt.Sprintf("%T", te), te.Op
		}
		r.Within = took >= limit && took < limit+2*time.Second
		line, _ := json.Marshal(r)
		fmt.Println(string(line))
	}
	report("Put", write, func() error { return st.Put(ctx, sample("app", 1)) })
	ref := secretRef{Keystore: KindOS, ID: "0123", Gen: 1, Chunks: 1, Size: 10}
	if err := writeIndex(filepath.Join(dir, indexFile), index{Credentials: []indexEntry{{Name: "app", ID: "0123", Keystore: KindOS, Secrets: &ref}}}); err != nil {
		t.Fatal(err)
	}
	report("Get", read, func() error { _, err := st.Get(ctx, "app"); return err })
	report("Delete", write, func() error { return st.Delete(ctx, "app") })
}

// TestLockedKeyring locks the login collection of a real gnome-keyring and checks that Get
// and Put report a *LockedError (the unlock prompt cannot be shown without a display) and
// that the credential stays intact. It runs in a child process under its own
// dbus-run-session and gnome-keyring (.ci/with-keyring), so that locking does not disturb
// other tests sharing this session's keyring.
func TestLockedKeyring(t *testing.T) {
	realKeyring(t)
	runner, err := exec.LookPath("dbus-run-session")
	needComponent(t, "dbus-run-session (apt: dbus)", err)
	script, err := filepath.Abs(filepath.Join("..", ".ci", "with-keyring"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, runner, "--", "bash", script, os.Args[0], "-test.run=^TestHelperProcess$")
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DISPLAY=") && !strings.HasPrefix(kv, "WAYLAND_DISPLAY=") && !strings.HasPrefix(kv, "DBUS_SESSION_BUS_ADDRESS=") {
			env = append(env, kv) // no display: a prompt must fail, never pop up
		}
	}
	cmd.Env = append(env, "KEYSTORE_HELPER=locked", "KEYSTORE_DIR="+t.TempDir())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, stderr.String()) // the helper prints no secret
	}
	want := "Get: *keystore.LockedError\nPut: *keystore.LockedError\nafter unlock: old credential intact\n"
	if got := lockedLines(string(out)); got != want {
		t.Errorf("helper reported:\n%s\nwant:\n%s", got, want)
	}
}

func lockedLines(out string) string {
	var b strings.Builder
	for line := range strings.Lines(out) {
		if s, ok := strings.CutPrefix(line, "locked: "); ok {
			b.WriteString(s)
		}
	}
	return b.String()
}

func init() { helpers["locked"] = helperLockedKeyring }

func helperLockedKeyring(t *testing.T) {
	if err := waitForSecretService(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	st, err := Open(KindOS, Options{ConfigDir: os.Getenv("KEYSTORE_DIR"), Service: "dcrctl-locked", ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	if err := st.Put(ctx, sample("app", 1)); err != nil {
		t.Fatal(err)
	}
	conn, err := dbus.SessionBusPrivateNoAutoStartup()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Auth(nil); err != nil {
		t.Fatal(err)
	}
	if err := conn.Hello(); err != nil {
		t.Fatal(err)
	}
	svc := conn.Object("org.freedesktop.secrets", "/org/freedesktop/secrets")
	login := []dbus.ObjectPath{"/org/freedesktop/secrets/collection/login"}
	if err := svc.Call("org.freedesktop.Secret.Service.Lock", 0, login).Err; err != nil {
		t.Fatal(err)
	}
	_, err = st.Get(ctx, "app")
	fmt.Printf("locked: Get: %T\n", errors.Unwrap(err))
	err = st.Put(ctx, sample("app", 2))
	fmt.Printf("locked: Put: %T\n", errors.Unwrap(err))

	// Unlock again without a prompt, through gnome-keyring's own interface for this, with
	// the password .ci/with-keyring gave it; then the old credential must be whole.
	var ignored dbus.Variant
	var session dbus.ObjectPath
	if err := svc.Call("org.freedesktop.Secret.Service.OpenSession", 0, "plain", dbus.MakeVariant("")).Store(&ignored, &session); err != nil {
		t.Fatal(err)
	}
	secret := struct {
		Session     dbus.ObjectPath
		Parameters  []byte
		Value       []byte
		ContentType string
	}{session, []byte{}, []byte("ci-keyring-password"), "text/plain"}
	if err := svc.Call("org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface.UnlockWithMasterPassword", 0, login[0], secret).Err; err != nil {
		t.Fatalf("unlock: %v", err)
	}
	got, err := st.Get(ctx, "app")
	if err == nil && credDiff(got, in(KindOS, sample("app", 1))) == "" {
		fmt.Println("locked: after unlock: old credential intact")
	} else {
		fmt.Printf("locked: after unlock: %v %s\n", err, credDiff(got, in(KindOS, sample("app", 1))))
	}
}
