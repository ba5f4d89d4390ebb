//go:build unix

package cmd

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestKeystoreLockWaitIsAnnounced: while another process holds the keystore's index lock,
// dcrctl says so at once and waits (bounded); when the lock is released it goes on.
func TestKeystoreLockWaitIsAnnounced(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"DCRCTL_KEYSTORE": "file", "DCRCTL_CONFIG_DIR": dir}
	lock := filepath.Join(dir, "index.lock")
	f, err := os.OpenFile(lock, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil { // as another dcrctl writing
		t.Fatal(err)
	}
	out, errOut := &lockedBuffer{}, &lockedBuffer{}
	ios := &IOStreams{In: strings.NewReader(""), Out: out, ErrOut: errOut, Getenv: func(k string) string { return env[k] }}
	want := "another dcrctl is using the keystore (it holds " + lock + "): waiting up to 1m0s\n"
	fd := int(f.Fd())
	released := make(chan struct{})
	go func() {
		defer close(released)
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) && !strings.Contains(errOut.String(), want) {
			time.Sleep(10 * time.Millisecond)
		}
		_ = syscall.Flock(fd, syscall.LOCK_UN)
	}()
	code := Run(context.Background(), ios, BuildInfo{}, []string{"list", "-o", "json"})
	<-released
	if code != ExitOK || errOut.String() != want || strings.TrimSpace(out.String()) != "[]" {
		t.Errorf("exit %d, stdout %q, stderr %q; want the notice %q, then an empty list", code, out, errOut, want)
	}
}

// TestServeAddressInUse: serve on a taken port names the process that holds it (on Linux)
// and --addr.
func TestServeAddressInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	r := runCLI(t, context.Background(), "", map[string]string{"DCRCTL_CONFIG_DIR": t.TempDir()}, "serve", "--memory", "--addr", ln.Addr().String())
	owner := ""
	if runtime.GOOS == "linux" {
		owner = fmt.Sprintf(" (by PID %d (%s))", os.Getpid(), procComm(t))
	}
	want := "; the address is in use" + owner + ": stop that server, or choose another address with --addr HOST:PORT (--addr 127.0.0.1:0 picks a free port)\n"
	if r.Code != ExitError || !strings.HasSuffix(r.Stderr, want) {
		t.Errorf("exit %d, stderr %q; want it to end %q", r.Code, r.Stderr, want)
	}
}

func procComm(t *testing.T) string {
	b, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}
