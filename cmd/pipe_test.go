//go:build unix

package cmd

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// pipeEnv is a fresh HOME and TMPDIR for a dcrctl subprocess (the dcrctl on PATH is this
// test binary, installed there by TestMain).
func pipeEnv(t *testing.T) (env []string, tmp string) {
	t.Helper()
	home, tmp := t.TempDir(), t.TempDir()
	return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "TMPDIR=" + tmp, "NO_COLOR=1",
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"), "XDG_DATA_HOME=" + filepath.Join(home, ".local", "share")}, tmp
}

// killGroup makes c the leader of a process group that is killed whole when the test's
// context ends, so that a serve left running by a failing pipeline does not outlive the test.
func killGroup(c *exec.Cmd) {
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	c.Cancel = func() error { return syscall.Kill(-c.Process.Pid, syscall.SIGKILL) }
	c.WaitDelay = 5 * time.Second
}

func needTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is needed (install it: apt-get install %s): %v", name, name, err)
		}
		t.Skipf("%s not installed", name)
	}
}

// TestServeHelpPipelineReturns runs serve --help's example through real pipes, head and jq:
// the ready line is the first stdout line and valid JSON, and once head has exited serve
// notices that nobody reads its stdout and stops, so the pipeline returns.
func TestServeHelpPipelineReturns(t *testing.T) {
	needTool(t, "jq")
	env, _ := pipeEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var example string // serve --help's own pipeline
	for _, l := range strings.Split(serveExample, "\n") {
		if strings.Contains(l, "| head -1 |") {
			example = strings.TrimSpace(l)
		}
	}
	if example == "" {
		t.Fatal("serve --help has no | head -1 | example")
	}
	for _, tc := range []struct{ pipeline, want string }{
		{example + ` | jq -r 'has("registration_endpoint") and has("token_endpoint")'`, "true\n"},
		{"dcrctl serve -o json --addr 127.0.0.1:0 --memory | head -1 | jq -r .registration", "client\n"},
		{"dcrctl serve -o json --addr 127.0.0.1:0 --memory --log-format json 2>serve.log | head -1 | jq -r '.client_secret | length > 20'", "true\n"},
	} {
		c := exec.CommandContext(ctx, "sh", "-c", tc.pipeline)
		c.Env, c.Dir = env, t.TempDir()
		killGroup(c)
		out, err := c.Output()
		var stderr string
		if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
			stderr = string(ee.Stderr)
		}
		if ctx.Err() != nil {
			t.Fatalf("%s did not return within 60 s", tc.pipeline)
		}
		if err != nil || string(out) != tc.want {
			t.Errorf("%s: %v, stdout %q, stderr %q; want %q", tc.pipeline, err, out, stderr, tc.want)
		}
	}
	// serve's own account: the ready line went out whole, then it stopped, exit 0.
	c := exec.CommandContext(ctx, "dcrctl", "serve", "-o", "json", "--addr", "127.0.0.1:0", "--memory", "--log-format", "none")
	c.Env = env
	killGroup(c)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	c.Stdout, c.Stderr = w, &stderr
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	line, err := bufio.NewReader(r).ReadString('\n')
	r.Close()
	var ready map[string]any
	if err != nil || json.Unmarshal([]byte(line), &ready) != nil || ready["issuer"] == nil {
		t.Fatalf("first stdout line %q (%v) is not the JSON ready line", line, err)
	}
	err = c.Wait()
	want := "dcrctl serve: stdout was closed (the command reading it exited): stopping\ndcrctl serve: stopped\n"
	if err != nil || !strings.HasSuffix(stderr.String(), want) {
		t.Errorf("serve after its reader left: %v, stderr %q; want exit 0 ending %q", err, stderr.String(), want)
	}
}

// TestQuickstartClosedStdoutLeavesNothing: quickstart whose stdout is closed after the first
// line is not killed by SIGPIPE half way: it stops, and its temporary directory (server
// database, file keystore with secrets) is gone.
func TestQuickstartClosedStdoutLeavesNothing(t *testing.T) {
	env, tmp := pipeEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := exec.CommandContext(ctx, "dcrctl", "quickstart")
	c.Env = env
	killGroup(c)
	var stderr strings.Builder
	c.Stderr = &stderr
	out, err := c.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	first, err := bufio.NewReader(out).ReadString('\n')
	out.Close()
	if err != nil || !strings.HasPrefix(first, "dcrctl quickstart: ") {
		t.Fatalf("first line %q (%v)", first, err)
	}
	err = c.Wait()
	ws, _ := c.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		t.Fatalf("quickstart was killed by %v; stderr %q", ws.Signal(), stderr.String())
	}
	wantErr := "dcrctl: stdout was closed (the command reading it exited): stopped; the embedded server and its temporary files are removed\n"
	if err == nil || c.ProcessState.ExitCode() != ExitError || !strings.HasSuffix(stderr.String(), wantErr) {
		t.Errorf("exit %v, stderr %q; want exit 1 ending %q", err, stderr.String(), wantErr)
	}
	left, err := os.ReadDir(tmp)
	if err != nil || len(left) != 0 {
		var names []string
		for _, e := range left {
			names = append(names, e.Name())
		}
		t.Errorf("TMPDIR after quickstart: %q (%v), want it empty", names, err)
	}
}
