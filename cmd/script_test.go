package cmd

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets the test binary run as the real dcrctl command inside testscript scripts.
// With DCRCTL_TEST_RUN_MAIN=1 it is dcrctl itself (for tests that run it in a terminal).
func TestMain(m *testing.M) {
	if os.Getenv("DCRCTL_TEST_RUN_MAIN") == "1" {
		os.Exit(Main(BuildInfo{Version: "test"}))
	}
	testscript.Main(m, map[string]func(){
		"dcrctl": func() { os.Exit(Main(BuildInfo{Version: "test"})) },
	})
}

// TestScripts runs cmd/testdata/script/*.txtar: the real dcrctl binary against `dcrctl serve`
// started inside each script. Each script has its own HOME and XDG directories, and the
// file keystore (DCRCTL_KEYSTORE=file) under them.
//
// Custom commands (secrets never reach the test log):
//
//	dcrserve [serve flags]        start `dcrctl serve -o json --addr 127.0.0.1:0 --memory` in the
//	                              background; set $ISSUER, $BOOTSTRAP_ID and write the bootstrap
//	                              secret to $WORK/bootstrap.secret
//	exit N dcrctl ARGS...         run dcrctl, require exit code N; stdout/stderr as for exec
//	quiet FILE dcrctl ARGS...     run dcrctl, require success, write stdout to FILE unlogged
//	json FILE PATH WANT           the JSON value at PATH (a.b.0.c) is WANT (strings unquoted,
//	                              others as compact JSON; WANT "<absent>" for a missing member)
//	jsonenv VAR FILE PATH         set $VAR to the (non-secret) value at PATH
//	changed [!] FILE1 FILE2 PATH  the values at PATH differ (with !: are equal), not printing them
//	nosecret SECRETS FILE...      no client_secret or registration_access_token of the JSON
//	                              file SECRETS, nor the bootstrap secret, occurs in FILEs
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("testdata", "script"),
		RequireExplicitExec: true,
		Setup: func(e *testscript.Env) error {
			home := filepath.Join(e.WorkDir, "home")
			e.Setenv("HOME", home)
			e.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
			e.Setenv("XDG_DATA_HOME", filepath.Join(home, ".local", "share"))
			e.Setenv("DCRCTL_KEYSTORE", "file")
			e.Setenv("NO_COLOR", "1")
			return os.MkdirAll(home, 0o700)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"dcrserve": cmdDcrServe,
			"exit":     cmdExit,
			"quiet":    cmdQuiet,
			"json":     cmdJSON,
			"jsonenv":  cmdJSONEnv,
			"changed":  cmdChanged,
			"nosecret": cmdNoSecret,
		},
	})
}

// dcrctlPath finds the dcrctl that testscript.Main installed on the script's PATH.
func dcrctlPath(ts *testscript.TestScript) string {
	for _, dir := range filepath.SplitList(ts.Getenv("PATH")) {
		p := filepath.Join(dir, "dcrctl")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	ts.Fatalf("dcrctl is not on the script's PATH")
	return ""
}

func scriptEnv(ts *testscript.TestScript) []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "DCRCTL_KEYSTORE", "NO_COLOR", "TMPDIR",
		"DCRCTL_ISSUER", "DCRCTL_PROFILE", "DCRCTL_TOKEN", "DCRCTL_CLIENT_SECRET", "DCRCTL_CONFIG_DIR"} {
		if v := ts.Getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	return env
}

func cmdDcrServe(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! dcrserve")
	}
	c := exec.Command(dcrctlPath(ts), append([]string{"serve", "-o", "json", "--addr", "127.0.0.1:0", "--memory", "--log-format", "none"}, args...)...)
	c.Dir = ts.MkAbs(".")
	c.Env = scriptEnv(ts)
	var stderr bytes.Buffer
	c.Stderr = &stderr
	out, err := c.StdoutPipe()
	ts.Check(err)
	ts.Check(c.Start())
	exited := make(chan struct{})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		for sc.Scan() {
		}
	}()
	go func() { c.Wait(); close(exited) }()
	ts.Defer(func() {
		_ = c.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = c.Process.Kill()
			<-exited
		}
	})
	var line string
	select {
	case l, ok := <-lines:
		if !ok {
			ts.Fatalf("dcrctl serve exited without its ready line; stderr:\n%s", stderr.String())
		}
		line = l
	case <-time.After(30 * time.Second):
		ts.Fatalf("dcrctl serve printed no ready line in 30s")
	}
	var ready struct {
		Issuer       string `json:"issuer"`
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	if err := json.Unmarshal([]byte(line), &ready); err != nil || ready.Issuer == "" {
		ts.Fatalf("dcrctl serve's ready line is not the JSON expected (%v)", err)
	}
	ts.Setenv("ISSUER", ready.Issuer)
	ts.Setenv("BOOTSTRAP_ID", ready.ClientID)
	ts.Check(os.WriteFile(ts.MkAbs("bootstrap.secret"), []byte(ready.ClientSecret+"\n"), 0o600))
	ts.Logf("dcrctl serve ready at %s", ready.Issuer)
}

func cmdExit(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exit N command args...")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		got = ee.ExitCode()
	} else if err != nil {
		ts.Fatalf("%v", err)
	}
	if got != want {
		ts.Fatalf("exit code %d, want %d", got, want)
	}
}

func cmdQuiet(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || args[1] != "dcrctl" {
		ts.Fatalf("usage: quiet FILE dcrctl args...")
	}
	c := exec.Command(dcrctlPath(ts), args[2:]...)
	c.Dir = ts.MkAbs(".")
	c.Env = scriptEnv(ts)
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	err := c.Run()
	if stderr.Len() > 0 {
		ts.Logf("[stderr]\n%s", stderr.String())
	}
	if err != nil {
		ts.Fatalf("dcrctl %s: %v", strings.Join(args[2:], " "), err)
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), stdout.Bytes(), 0o600))
}

// jsonAt returns the value at a dotted path (array indexes as numbers).
func jsonAt(ts *testscript.TestScript, file, path string) (any, bool) {
	var v any
	if err := json.Unmarshal([]byte(ts.ReadFile(file)), &v); err != nil {
		ts.Fatalf("%s is not JSON: %v", file, err)
	}
	if path == "." {
		return v, true
	}
	for _, p := range strings.Split(strings.TrimPrefix(path, "."), ".") {
		switch x := v.(type) {
		case map[string]any:
			e, ok := x[p]
			if !ok {
				return nil, false
			}
			v = e
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}

func jsonText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func cmdJSON(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 {
		ts.Fatalf("usage: json FILE PATH WANT")
	}
	v, ok := jsonAt(ts, args[0], args[1])
	got := "<absent>"
	if ok {
		got = jsonText(v)
	}
	if secretPath(args[1]) {
		if args[2] != "<absent>" {
			ts.Fatalf("json: %s is a secret: only <absent> may be asserted; use changed or nosecret", args[1])
		}
		if ok {
			got = "<present>"
		}
	}
	if (got == args[2]) == neg {
		ts.Fatalf("%s %s: got %s, want %s%s", args[0], args[1], got, map[bool]string{true: "not ", false: ""}[neg], args[2])
	}
}

func secretPath(p string) bool {
	last := p[strings.LastIndex(p, ".")+1:]
	return last == "client_secret" || last == "registration_access_token" || last == "access_token"
}

func cmdJSONEnv(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: jsonenv VAR FILE PATH")
	}
	if secretPath(args[2]) {
		ts.Fatalf("jsonenv: %s is a secret", args[2])
	}
	v, ok := jsonAt(ts, args[1], args[2])
	if !ok {
		ts.Fatalf("%s has no %s", args[1], args[2])
	}
	ts.Setenv(args[0], jsonText(v))
}

func cmdChanged(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 {
		ts.Fatalf("usage: changed FILE1 FILE2 PATH")
	}
	a, aok := jsonAt(ts, args[0], args[2])
	b, bok := jsonAt(ts, args[1], args[2])
	if !aok || !bok || jsonText(a) == "" {
		ts.Fatalf("%s missing or empty in %s or %s", args[2], args[0], args[1])
	}
	if (jsonText(a) != jsonText(b)) == neg {
		ts.Fatalf("%s: changed=%v between %s and %s, want %v", args[2], !neg, args[0], args[1], !neg)
	}
}

func cmdNoSecret(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: nosecret SECRETS FILE...")
	}
	var secrets []string
	for _, k := range []string{"client_secret", "registration_access_token"} {
		if v, ok := jsonAt(ts, args[0], k); ok {
			if s, _ := v.(string); s != "" {
				secrets = append(secrets, s)
			}
		}
	}
	if b, err := os.ReadFile(ts.MkAbs("bootstrap.secret")); err == nil && len(bytes.TrimSpace(b)) > 0 {
		secrets = append(secrets, string(bytes.TrimSpace(b)))
	}
	if len(secrets) == 0 {
		ts.Fatalf("%s holds no secrets to look for", args[0])
	}
	for _, f := range args[1:] {
		content := ts.ReadFile(f) // "stdout" and "stderr" are the last command's
		for i, s := range secrets {
			if strings.Contains(content, s) {
				ts.Fatalf("secret #%d of %s appears in %s", i, args[0], f)
			}
		}
	}
}
